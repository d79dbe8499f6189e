// X.509 times (RFC 5280 §4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050, whole
// seconds only.
import * as pkijs from 'pkijs';

export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

export function x509Time(date: Date): pkijs.Time {
  const value = wholeSeconds(date);
  const type = value.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime;
  return new pkijs.Time({ type, value });
}
