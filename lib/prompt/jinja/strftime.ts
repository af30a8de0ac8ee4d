/**
 * Python `datetime.strftime` in the C locale (what `strftime_now` returns under transformers on
 * a default Linux system): local time, English names.
 */
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

const pad = (n: number, width = 2, fill = '0') => String(n).padStart(width, fill);

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 86400000) + 1;
}

function weekNumber(d: Date, firstDay: 0 | 1): number {
  const yday = dayOfYear(d) - 1;
  const wday = (d.getDay() + 7 - firstDay) % 7;
  return Math.floor((yday + 7 - wday) / 7);
}

/** Formats `date` with a Python/C `strftime` format string. Unknown directives are kept as is. */
export function strftime(date: Date, format: string): string {
  const h12 = date.getHours() % 12 || 12;
  const offset = -date.getTimezoneOffset();
  const fields: Record<string, () => string> = {
    a: () => DAYS[date.getDay()]!.slice(0, 3),
    A: () => DAYS[date.getDay()]!,
    b: () => MONTHS[date.getMonth()]!.slice(0, 3),
    h: () => MONTHS[date.getMonth()]!.slice(0, 3),
    B: () => MONTHS[date.getMonth()]!,
    c: () => strftime(date, '%a %b %e %H:%M:%S %Y'),
    C: () => pad(Math.floor(date.getFullYear() / 100)),
    d: () => pad(date.getDate()),
    D: () => strftime(date, '%m/%d/%y'),
    e: () => pad(date.getDate(), 2, ' '),
    F: () => strftime(date, '%Y-%m-%d'),
    f: () => pad(date.getMilliseconds() * 1000, 6),
    H: () => pad(date.getHours()),
    I: () => pad(h12),
    j: () => pad(dayOfYear(date), 3),
    m: () => pad(date.getMonth() + 1),
    M: () => pad(date.getMinutes()),
    n: () => '\n',
    p: () => (date.getHours() < 12 ? 'AM' : 'PM'),
    R: () => strftime(date, '%H:%M'),
    S: () => pad(date.getSeconds()),
    t: () => '\t',
    T: () => strftime(date, '%H:%M:%S'),
    u: () => String(date.getDay() || 7),
    U: () => pad(weekNumber(date, 0)),
    w: () => String(date.getDay()),
    W: () => pad(weekNumber(date, 1)),
    x: () => strftime(date, '%m/%d/%y'),
    X: () => strftime(date, '%H:%M:%S'),
    y: () => pad(date.getFullYear() % 100),
    Y: () => String(date.getFullYear()),
    z: () => (offset >= 0 ? '+' : '-') + pad(Math.floor(Math.abs(offset) / 60)) + pad(Math.abs(offset) % 60),
    Z: () => new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date)
      .find((p) => p.type === 'timeZoneName')?.value ?? '',
    '%': () => '%',
  };
  return format.replace(/%(-?)([a-zA-Z%])/g, (whole, noPad: string, c: string) => {
    const f = fields[c];
    if (!f) return whole;
    const v = f();
    // glibc's `%-d`: no padding
    return noPad ? v.replace(/^[0 ]+(?=.)/, '') : v;
  });
}
