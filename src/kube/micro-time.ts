// metav1.MicroTime on the wire: RFC 3339 with exactly six fractional digits (Lease times, Event times).

export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
