/** The library version, written into rendered files. Kept equal to package.json by a test. */
export const VERSION = '0.1.0';
