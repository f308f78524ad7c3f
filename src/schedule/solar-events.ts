// Celery's solar events as crossings of the sun through a horizon, with no refraction (Celery's observer has
// pressure 0): the center of the sun for the twilights, its upper limb at -0°34′ for sunrise and sunset, the
// meridian for solar_noon. dusk_astronomical is the sun setting through -18°, its meaning and Celery's value from
// 5.6.3 (Celery 5.2.6 used +18°, an afternoon time).
// Also what needs no ephemeris: whether a latitude has days without the event (polar day or night), and the
// nearest fixed time of day for readers of the Redis key that know only a crontab.
import type { CeleryCrontabFields, SolarEvent } from '../api/types.ts';

export type SolarCrossing =
  /** The sun's center rising (+1) or setting (-1) through `altitude` degrees. */
  | { kind: 'center'; direction: 1 | -1; altitude: number }
  /** The upper limb rising or setting through -0°34′ (sunrise, sunset). */
  | { kind: 'limb'; direction: 1 | -1 }
  /** The sun on the meridian. */
  | { kind: 'transit' };

export const SOLAR_CROSSINGS: Readonly<Record<SolarEvent, SolarCrossing>> = {
  dawn_astronomical: { kind: 'center', direction: 1, altitude: -18 },
  dawn_nautical: { kind: 'center', direction: 1, altitude: -12 },
  dawn_civil: { kind: 'center', direction: 1, altitude: -6 },
  sunrise: { kind: 'limb', direction: 1 },
  solar_noon: { kind: 'transit' },
  sunset: { kind: 'limb', direction: -1 },
  dusk_civil: { kind: 'center', direction: -1, altitude: -6 },
  dusk_nautical: { kind: 'center', direction: -1, altitude: -12 },
  dusk_astronomical: { kind: 'center', direction: -1, altitude: -18 },
};

/** The sun's mean apparent radius, degrees: the limb at -0°34′ is the center at about -0°50′. */
const SUN_RADIUS = 16 / 60;
/** The obliquity of the ecliptic, degrees: the sun's declination stays within ± this. */
const OBLIQUITY = 23.44;

/** The altitude of the sun's center at the event, degrees (0 for the transit, which has no horizon). */
export function centerAltitude(crossing: SolarCrossing): number {
  if (crossing.kind === 'center') return crossing.altitude;
  return crossing.kind === 'limb' ? -34 / 60 - SUN_RADIUS : 0;
}

/**
 * Degrees by which the sun's center, on a day of declination `declination` at `latitude`, clears `altitude`:
 * positive when it crosses it (the least of its distances to the day's highest and lowest altitudes), negative
 * when it stays above or below it all day (by how far).
 */
export function crossingSlack(latitude: number, declination: number, altitude: number): number {
  const highest = 90 - Math.abs(latitude - declination);
  const lowest = -90 + Math.abs(latitude + declination);
  return Math.min(highest - altitude, altitude - lowest);
}

/**
 * Whether the event happens on every day of the year at `latitude`, with `margin` degrees to spare: true for
 * solar_noon, false where polar day or night leaves days without the event.
 */
export function happensEveryDay(event: SolarEvent, latitude: number, margin: number): boolean {
  const crossing = SOLAR_CROSSINGS[event];
  if (crossing.kind === 'transit') return true;
  const altitude = centerAltitude(crossing);
  return (
    crossingSlack(latitude, OBLIQUITY, altitude) > margin &&
    crossingSlack(latitude, -OBLIQUITY, altitude) > margin
  );
}

/**
 * The event's time of day at the equinox in mean solar time, as a daily crontab in UTC: the nearest fixed
 * time for a reader of celerybeat-redis's documented kinds. Where the sun does not reach the altitude at the
 * equinox (near the poles), the time of its nearest approach (noon or midnight).
 */
export function equinoxCrontab(event: SolarEvent, latitude: number, longitude: number): CeleryCrontabFields {
  const crossing = SOLAR_CROSSINGS[event];
  const radians = Math.PI / 180;
  // Degrees of the sun's hour angle at the event: negative before noon (rising), positive after (setting).
  let hourAngle = 0;
  if (crossing.kind !== 'transit') {
    // At declination 0: sin(altitude) = cos(latitude)·cos(hourAngle).
    const cosine = Math.sin(centerAltitude(crossing) * radians) / Math.cos(latitude * radians);
    hourAngle = (-crossing.direction * Math.acos(Math.min(1, Math.max(-1, cosine)))) / radians;
  }
  // Local mean noon is 12:00 UTC at longitude 0, 4 minutes earlier per degree east; the hour angle turns by
  // a degree every 4 minutes.
  const minutes = Math.round(720 + (hourAngle - longitude) * 4);
  const minuteOfDay = ((minutes % 1440) + 1440) % 1440;
  return {
    minute: String(minuteOfDay % 60),
    hour: String(Math.floor(minuteOfDay / 60)),
    day_of_week: '*',
    day_of_month: '*',
    month_of_year: '*',
  };
}
