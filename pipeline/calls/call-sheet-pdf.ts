// The printable call sheet: a manager's tasks on A4, one block per customer with the phone, rank,
// band and offer, the call script, the last contacts and boxes to tick for the outcome. Noto Sans
// SC (the print fonts) so Chinese names and scripts print as they are.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import PDFDocument from 'pdfkit';
import { printFonts } from '../render/print/fonts.ts';
import type { CallListRow } from './call-list.ts';
import type { CallScript } from './call-script.ts';

const MARGIN = 40;
// The sheet is stamped with the time it was printed for, not when the PDF was made.
export interface CallSheetOptions {
  campaign: string;
  title: string;
  printedFor: Date;
  outcomes: CallScript['outcomes'];
}

export async function writeCallSheet(rows: CallListRow[], out: Writable, opts: CallSheetOptions): Promise<number> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: true,
    bufferPages: false,
    info: {
      Title: `${opts.title} — call sheet`,
      Creator: 'Mailroom',
      Producer: 'Mailroom',
      CreationDate: opts.printedFor,
    },
  });
  const fonts = printFonts();
  doc.registerFont('regular', fonts.regular as never);
  doc.registerFont('bold', fonts.bold as never);
  doc.pipe(out);
  const width = doc.page.width - 2 * MARGIN;
  const bottom = () => doc.page.height - MARGIN;
  let pages = 1;
  doc.on('pageAdded', () => pages++);

  const managers = [...new Set(rows.map((r) => r.manager))].join('、') || '—';
  doc.font('bold').fontSize(14).text(`${opts.title}  通话清单 call sheet`, { width });
  doc
    .font('regular')
    .fontSize(9)
    .fillColor('#444')
    .text(
      `${opts.campaign} · 客户经理 ${managers} · ${rows.length} 位客户 · ${opts.printedFor.toISOString().slice(0, 10)}`,
      {
        width,
      },
    );
  doc.moveDown(0.8).fillColor('black');

  for (const [i, r] of rows.entries()) {
    // Keep a customer's block on one page where it fits: start a new page when little room is left.
    if (doc.y > bottom() - 170) doc.addPage();
    doc
      .font('bold')
      .fontSize(11)
      .text(`${i + 1}. ${r.name}（${r.salutation}）  ${r.phone ?? '无电话'}${r.phone_flagged ? '  号码有误' : ''}`, {
        width,
      });
    doc
      .font('regular')
      .fontSize(9)
      .text(
        `排名 ${r.rank ?? '—'} · ${r.band ?? '—'} · 礼品 ${r.offer ?? '—'} · 状态 ${r.status} · 已拨 ${r.attempts}/${r.attempts_allowed}` +
          (r.due_at ? ` · 截止 ${r.due_at.slice(0, 10)}` : ''),
        { width },
      );
    if (r.script) {
      doc.moveDown(0.3).fontSize(9.5).fillColor('#222').text(r.script, { width, lineGap: 1.5 });
    }
    if (r.last_contacts.length) {
      doc.moveDown(0.3).fontSize(8).fillColor('#555');
      for (const c of r.last_contacts)
        doc.text(
          `${c.at.slice(0, 10)} ${c.channel} ${c.who}: ${c.outcome ?? ''}${c.next_step ? ` → ${c.next_step}` : ''}`,
          {
            width,
          },
        );
    }
    doc.moveDown(0.3).fontSize(9).fillColor('black');
    doc.text(opts.outcomes.map((o) => `□ ${o.label}`).join('   '), { width });
    doc.text('日期/时间 ______________   备注 ________________________________________', { width });
    doc.moveDown(0.4);
    const y = doc.y;
    doc
      .moveTo(MARGIN, y)
      .lineTo(MARGIN + width, y)
      .lineWidth(0.5)
      .strokeColor('#999')
      .stroke();
    doc.moveDown(0.6);
  }
  doc.end();
  await once(out, 'finish');
  return pages;
}
