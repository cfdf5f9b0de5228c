// Visits booked by the customer on the landing page, in the slots the campaign file offers:
//   booking: { slots: { days: [mon, tue, wed, thu, fri, sat], times: ["09:30", "14:00"], per_slot: 4 }, within: 14d }
// read here with a schema of its own (the campaign file lets keys it does not know pass). Slots are
// in the branch's local time (utc_offset, Beijing time by default), from `notice` after now until
// `within`. Every write to bookings and booking_slots is here. A booking takes a place of its slot
// by one conditional update (the slot's capacity is enforced in SQL), records one booking per
// customer per campaign, and settles the customer's open call task as booked online (the manager
// sees it booked and does not call); a customer without a call task gets the appointment response
// directly. Booking again, or replaying the post, writes nothing new.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Sql } from '../../db/connection.ts';
import { ExitCode, UserError } from '../../config/errors.ts';
import { YamlSource, formatPath } from '../../config/yaml-file.ts';
import { duration, durationMs } from '../campaign/names.ts';
import { recordResponse } from '../responses/record.ts';
import { recordCallOutcome } from './call-tasks.ts';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export const bookingSchema = z.strictObject({
  slots: z.strictObject({
    days: z.array(z.enum(DAYS)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri', 'sat']),
    times: z.array(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time such as 09:30')).min(1),
    per_slot: z.number().int().min(1),
  }),
  within: duration.default('14d'),
  /** How long before a slot it can still be booked. */
  notice: duration.default('1h'),
  /** The branch's offset from UTC; Beijing time by default. */
  utc_offset: z
    .string()
    .regex(/^[+-](0\d|1[0-4]):[0-5]\d$/, 'an offset such as +08:00')
    .default('+08:00'),
});
export type BookingSettings = z.infer<typeof bookingSchema>;

/** Who settles a call task when the customer booked on their page: the contact log and the manager's list show it. */
export const BOOKED_ONLINE = '在线预约';
export const BOOKING_SOURCE = 'online';

/** The `booking:` key of a stored campaign file, or null when it has none or it cannot be used (see checkBooking). */
export function bookingSettings(spec: unknown): BookingSettings | null {
  const text = (spec as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') return null;
  try {
    const doc = parseYaml(text) as { booking?: unknown } | null;
    if (!doc?.booking) return null;
    const parsed = bookingSchema.safeParse(doc.booking);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The `booking:` of a launched campaign, by its id. */
export async function bookingSettingsOf(sql: Sql, campaignId: number): Promise<BookingSettings | null> {
  const [row] = await sql<{ spec: unknown }[]>`select spec from campaigns where id = ${campaignId}`;
  return bookingSettings(row?.spec);
}

/** A booked time for staff and managers: the branch's clock when the campaign says it, else UTC. */
export function bookedAtText(at: Date, settings: BookingSettings | null): string {
  return settings ? slotLabel(at, settings, 'zh-CN') : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The campaign file's `booking:` checked, with the file, line and field of what is wrong. */
export function checkBooking(file: string, text: string): BookingSettings | null {
  const source = YamlSource.parse(file, text);
  const booking = (source.toJS() as { booking?: unknown } | null)?.booking;
  if (booking === undefined || booking === null) return null;
  const parsed = bookingSchema.safeParse(booking);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = ['booking', ...(issue.path as (string | number)[])];
  throw new UserError(
    `${source.where(path)}: ${formatPath(path)}: ${issue.message} (booking: { slots: { days: [mon, …], times: ["09:30", …], per_slot: 4 }, within: 14d })`,
    ExitCode.badInput,
  );
}

function offsetMs(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number);
  return sign * (h! * 60 + m!) * 60_000;
}

export interface Slot {
  at: Date;
  /** The value a form posts: the slot's UTC time. */
  value: string;
  /** In the branch's local time, in the customer's language. */
  label: string;
  left: number;
}

const WEEKDAY_ZH = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
const WEEKDAY_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A slot's time as the branch's clock shows it, e.g. 12月4日 周五 09:30 or Fri 4 Dec, 09:30. */
export function slotLabel(at: Date, settings: BookingSettings, locale: string): string {
  const local = new Date(at.getTime() + offsetMs(settings.utc_offset));
  const hm = local.toISOString().slice(11, 16);
  const d = local.getUTCDate();
  const w = local.getUTCDay();
  return locale.startsWith('zh')
    ? `${local.getUTCMonth() + 1}月${d}日 ${WEEKDAY_ZH[w]} ${hm}`
    : `${WEEKDAY_EN[w]} ${d} ${MONTH_EN[local.getUTCMonth()]}, ${hm}`;
}

/** The slots the settings offer after `now`: from `notice` on, until `within`. */
export function slotTimes(settings: BookingSettings, now: Date): Date[] {
  const offset = offsetMs(settings.utc_offset);
  const from = now.getTime() + durationMs(settings.notice);
  const until = now.getTime() + durationMs(settings.within);
  const today = new Date(now.getTime() + offset);
  const out: Date[] = [];
  for (let day = 0; day <= Math.ceil(durationMs(settings.within) / 86_400_000) + 1; day++) {
    const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + day));
    if (!settings.slots.days.includes(DAYS[date.getUTCDay()]!)) continue;
    for (const time of [...settings.slots.times].sort()) {
      const [h, m] = time.split(':').map(Number);
      const at = date.getTime() + (h! * 60 + m!) * 60_000 - offset;
      if (at >= from && at <= until) out.push(new Date(at));
    }
  }
  return out;
}

/** The slots still open: offered and not full. */
export async function openSlots(
  sql: Sql,
  campaignId: number,
  settings: BookingSettings,
  opts: { now: Date; locale: string },
): Promise<Slot[]> {
  const times = slotTimes(settings, opts.now);
  if (!times.length) return [];
  const rows = await sql<{ slot_at: Date; booked: number }[]>`
    select slot_at, booked from booking_slots
    where campaign_id = ${campaignId} and slot_at = any(${times.map((t) => t.toISOString())}::timestamptz[])`;
  const booked = new Map(rows.map((r) => [r.slot_at.getTime(), r.booked]));
  return times
    .map((at) => ({
      at,
      value: at.toISOString(),
      label: slotLabel(at, settings, opts.locale),
      left: settings.slots.per_slot - (booked.get(at.getTime()) ?? 0),
    }))
    .filter((s) => s.left > 0);
}

export interface Booking {
  id: number;
  slotAt: Date;
  createdAt: Date;
}

/** The customer's booking in this campaign, if they booked. */
export async function bookingOf(sql: Sql, campaignId: number, customerId: number): Promise<Booking | null> {
  const [row] = await sql<{ id: number; slot_at: Date; created_at: Date }[]>`
    select id, slot_at, created_at from bookings where campaign_id = ${campaignId} and customer_id = ${customerId}`;
  return row ? { id: row.id, slotAt: row.slot_at, createdAt: row.created_at } : null;
}

export type BookResult =
  | { status: 'booked' | 'already'; booking: Booking }
  /** The slot is not one the campaign offers now (past, outside the days, or made up). */
  | { status: 'not_offered' }
  | { status: 'full' };

class Refused extends Error {
  constructor(readonly status: 'full' | 'raced') {
    super(status);
  }
}

/** Books `slotAt` for the customer, once; settles their call task as booked online. */
export async function bookVisit(
  sql: Sql,
  input: { campaignId: number; customerId: number; slotAt: Date; settings: BookingSettings; now?: Date },
): Promise<BookResult> {
  const now = input.now ?? new Date();
  let result: BookResult;
  const existing = await bookingOf(sql, input.campaignId, input.customerId);
  if (existing) result = { status: 'already', booking: existing };
  else {
    if (!slotTimes(input.settings, now).some((t) => t.getTime() === input.slotAt.getTime()))
      return { status: 'not_offered' };
    try {
      result = await sql.begin(async (txn) => {
        const tx = txn as unknown as Sql;
        await tx`
          insert into booking_slots (campaign_id, slot_at) values (${input.campaignId}, ${input.slotAt})
          on conflict do nothing`;
        // One statement decides: the row lock makes concurrent bookings of a slot take their turn.
        const taken = await tx`
          update booking_slots set booked = booked + 1
          where campaign_id = ${input.campaignId} and slot_at = ${input.slotAt} and booked < ${input.settings.slots.per_slot}
          returning booked`;
        if (!taken.length) throw new Refused('full');
        const [row] = await tx<{ id: number; created_at: Date }[]>`
          insert into bookings (campaign_id, customer_id, slot_at, source)
          values (${input.campaignId}, ${input.customerId}, ${input.slotAt}, ${BOOKING_SOURCE})
          on conflict on constraint bookings_once do nothing returning id, created_at`;
        // Booked at the same moment from another tab: give the place back by rolling back.
        if (!row) throw new Refused('raced');
        return { status: 'booked', booking: { id: row.id, slotAt: input.slotAt, createdAt: row.created_at } };
      });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      if (error.status === 'full') return { status: 'full' };
      result = { status: 'already', booking: (await bookingOf(sql, input.campaignId, input.customerId))! };
    }
  }
  // Done after the booking (and again on a replay, which then changes nothing): a crash in between
  // leaves the task to the next post of the form.
  await settleBooked(sql, input.campaignId, input.customerId, result.booking);
  return result;
}

async function settleBooked(sql: Sql, campaignId: number, customerId: number, booking: Booking): Promise<void> {
  const settled = await recordCallOutcome(sql, {
    campaignId,
    customerId,
    outcome: 'appointment',
    appointmentAt: booking.slotAt,
    note: 'booked online',
    recordedBy: BOOKED_ONLINE,
    source: BOOKING_SOURCE,
    key: `booking:${booking.id}`,
    occurredAt: booking.createdAt,
  });
  // Without an open call task (no call wave, or the task already closed) the appointment response
  // is written here; with one, recordCallOutcome wrote it.
  if (!settled.applied && settled.reason !== 'replayed')
    await recordResponse(sql, {
      campaignId,
      customerId,
      deliveryId: null,
      kind: 'appointment',
      source: 'landing',
      dedupeKey: `appointment:booking:${booking.id}`,
      details: { at: booking.slotAt.toISOString(), by: BOOKING_SOURCE },
    });
}
