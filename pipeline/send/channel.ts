// One small interface for every channel. A channel renders and hands one message to its
// provider; the ledger (ledger.ts) decides whether it may.
import type { RenderContext } from '../render/context.ts';

export type ChannelName = 'mail' | 'email' | 'sms';

export interface OutgoingMessage {
  deliveryId: number;
  context: RenderContext;
}

export interface Channel {
  name: ChannelName;
  /** Sends one message; resolves with the provider's id. Throws PermanentSendError or SendNotMadeError, or anything else when the outcome is unknown. */
  send(message: OutgoingMessage): Promise<{ providerId: string }>;
  /**
   * Settles a message whose send was interrupted (a crash between the ledger's 'pending' and its
   * outcome): the provider's id if the provider has it, 'resend' if sending again cannot make a
   * second message for the recipient (an idempotency key), 'unknown' if neither can be known.
   */
  recover?(message: OutgoingMessage & { since: Date }): Promise<{ providerId: string } | 'resend' | 'unknown'>;
  close(): Promise<void>;
}

/**
 * The provider refused this recipient for good (hard bounce, invalid number): record, do not
 * retry; with `suppress`, the address also goes on the suppression list for the channel.
 */
export class PermanentSendError extends Error {
  constructor(
    message: string,
    readonly code?: string | number,
    readonly suppress?: 'hard_bounce' | 'sms_stop' | 'invalid_address',
  ) {
    super(message);
  }
}

/** The provider surely did not take the message (connection refused, 4xx): safe to try again later. */
export class SendNotMadeError extends Error {}
