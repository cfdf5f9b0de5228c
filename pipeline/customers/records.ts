// The normalised records the database stores. Imports and the seed produce them; the upserts take them.
import { z } from 'zod';

const optional = <T extends z.ZodType>(t: T) => t.nullable().optional();

export const attributeValueSchema = z.union([z.string(), z.number(), z.boolean()]);

export const customerRecordSchema = z.object({
  external_id: z.string().min(1).max(100),
  full_name: z.string().min(1).max(200),
  family_name: optional(z.string().max(100)),
  given_name: optional(z.string().max(100)),
  gender: optional(z.enum(['female', 'male', 'other', 'unknown'])),
  salutation: optional(z.string().max(50)),
  locale: optional(z.string()),
  email: optional(z.string().max(254)),
  phone: optional(z.string().regex(/^\+[1-9]\d{6,14}$/)),
  address_line1: optional(z.string().max(300)),
  address_line2: optional(z.string().max(300)),
  district: optional(z.string().max(100)),
  city: optional(z.string().max(100)),
  province: optional(z.string().max(100)),
  postal_code: optional(z.string().max(12)),
  country: optional(z.string().regex(/^[A-Z]{2}$/)),
  birthday: optional(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)),
  timezone: optional(z.string()),
  created_at: optional(z.string()),
  attributes: z.record(z.string(), attributeValueSchema),
  consents: z.object({
    mail: optional(z.enum(['granted', 'denied'])),
    email: optional(z.enum(['granted', 'denied'])),
    sms: optional(z.enum(['granted', 'denied'])),
  }),
  /** Used only when the customer is new; an update never replaces a stored value with a default. */
  defaults: z.object({ locale: z.string(), timezone: z.string(), country: z.string() }),
});
export type CustomerRecord = z.infer<typeof customerRecordSchema>;

export const orderRecordSchema = z.object({
  order_ref: z.string().min(1).max(100),
  customer_external_id: z.string().min(1).max(100),
  amount: z.string().regex(/^-?\d+(\.\d+)?$/),
  currency: z.string().regex(/^[A-Z]{3}$/),
  occurred_at: z.string(),
  channel: optional(z.string().max(50)),
});
export type OrderRecord = z.infer<typeof orderRecordSchema>;
