// The gifts of a campaign as `mailroom status`, `mailroom visit --stock` and the demo print them:
// per offer its text, stock, how many were handed out, how many are left, and what they cost.
import type { GiftStock } from '../pipeline/visits/branch-visit.ts';
import { formatTable } from './output.ts';

export function giftStockTable(stock: GiftStock[]): string {
  return formatTable(
    stock.map((g) => ({
      gift: g.offer,
      text: g.text,
      stock: g.stock ?? '',
      'handed out': g.used,
      left: g.remaining ?? '',
      'unit cost': g.unit_cost?.toFixed(2) ?? '',
      cost: g.cost?.toFixed(2) ?? '',
    })),
  );
}
