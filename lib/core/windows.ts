import { IssueCollector, show } from './errors';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

function hhmm(text: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** Parses `hh24:mi-hh24:mi` into [start, end) minutes of the day (end may pass midnight). */
export function parseDailyWindow(text: string): [number, number] | undefined {
  const [a, b, ...rest] = text.split('-');
  if (rest.length || a === undefined || b === undefined) return undefined;
  const start = hhmm(a);
  let end = hhmm(b);
  if (start === undefined || end === undefined) return undefined;
  if (end <= start) end += MINUTES_PER_DAY;
  return [start, end];
}

/** Parses `ddd:hh24:mi-ddd:hh24:mi` into [start, end) minutes of the week (end may pass the week's end). */
export function parseWeeklyWindow(text: string): [number, number] | undefined {
  const m = /^([a-z]{3}):(\d\d:\d\d)-([a-z]{3}):(\d\d:\d\d)$/.exec(text.toLowerCase());
  if (!m) return undefined;
  const d1 = DAYS.indexOf(m[1]);
  const d2 = DAYS.indexOf(m[3]);
  const t1 = hhmm(m[2]);
  const t2 = hhmm(m[4]);
  if (d1 < 0 || d2 < 0 || t1 === undefined || t2 === undefined) return undefined;
  const start = d1 * MINUTES_PER_DAY + t1;
  let end = d2 * MINUTES_PER_DAY + t2;
  if (end <= start) end += MINUTES_PER_WEEK;
  return [start, end];
}

/**
 * ElastiCache snapshot and maintenance windows: formats, at least 60 minutes each, and no overlap.
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html
 */
export function checkCacheWindows(
  issues: IssueCollector,
  snapshotWindow: string | undefined,
  maintenanceWindow: string | undefined,
): void {
  let daily: [number, number] | undefined;
  let weekly: [number, number] | undefined;
  if (issues.known(snapshotWindow)) {
    daily = parseDailyWindow(snapshotWindow);
    if (!daily) {
      issues.error(
        'window.format',
        'snapshotWindow',
        `snapshotWindow ${show(snapshotWindow)} is not a window: use "hh24:mi-hh24:mi" in UTC, e.g. "03:00-04:00".`,
      );
    } else if (daily[1] - daily[0] < 60) {
      issues.error(
        'window.length',
        'snapshotWindow',
        `snapshotWindow ${show(snapshotWindow)} is ${daily[1] - daily[0]} minutes long: ElastiCache needs at least 60 minutes.`,
      );
      daily = undefined;
    }
  }
  if (issues.known(maintenanceWindow)) {
    weekly = parseWeeklyWindow(maintenanceWindow);
    if (!weekly) {
      issues.error(
        'window.format',
        'maintenanceWindow',
        `maintenanceWindow ${show(maintenanceWindow)} is not a window: use "ddd:hh24:mi-ddd:hh24:mi" in UTC with ddd one of sun, mon, tue, wed, thu, fri, sat, e.g. "sun:05:00-sun:06:00".`,
      );
    } else if (weekly[1] - weekly[0] < 60) {
      issues.error(
        'window.length',
        'maintenanceWindow',
        `maintenanceWindow ${show(maintenanceWindow)} is ${weekly[1] - weekly[0]} minutes long: ElastiCache needs at least 60 minutes.`,
      );
      weekly = undefined;
    }
  }
  if (daily && weekly && overlapsDaily(daily, weekly)) {
    issues.error(
      'window.overlap',
      'snapshotWindow',
      `snapshotWindow ${show(snapshotWindow)} overlaps maintenanceWindow ${show(maintenanceWindow)}: ElastiCache refuses overlapping windows; move one of them.`,
    );
  }
}

function overlapsDaily(daily: [number, number], weekly: [number, number]): boolean {
  // Compare the weekly window with the daily window on each day of the week and the days around it.
  for (let day = -1; day <= 8; day++) {
    const s = day * MINUTES_PER_DAY + daily[0];
    const e = day * MINUTES_PER_DAY + daily[1];
    if (s < weekly[1] && weekly[0] < e) return true;
  }
  return false;
}
