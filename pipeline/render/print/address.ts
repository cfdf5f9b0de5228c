// The recipient block as the post expects it. Chinese addresses run from large to small with the
// postal code first and the name last ("王晓明 先生 收"); others run name first, postcode near the end.
import type { RenderContext } from '../context.ts';

const COUNTRY_NAMES: Record<string, string> = {
  GB: 'United Kingdom',
  US: 'United States',
  HK: 'Hong Kong',
  MO: 'Macau',
  TW: 'Taiwan',
  SG: 'Singapore',
  JP: 'Japan',
};

export function addressLines(customer: RenderContext['customer'], senderCountry = 'CN'): string[] {
  const chineseStyle =
    customer.country === 'CN' || customer.country === 'HK' || customer.country === 'MO' || customer.country === 'TW';
  const compact = (parts: (string | null)[]) => parts.filter((p): p is string => !!p && p.trim() !== '');
  if (chineseStyle && (customer.locale.startsWith('zh') || /[\u3400-\u9fff]/.test(customer.address_line1 ?? ''))) {
    const honorific = customer.gender === 'male' ? ' 先生' : customer.gender === 'female' ? ' 女士' : '';
    const region = compact([
      customer.province,
      customer.city === customer.province ? null : customer.city,
      customer.district,
    ]).join('');
    return compact([
      customer.postal_code,
      `${region}${customer.address_line1 ?? ''}`,
      customer.address_line2,
      `${customer.full_name}${honorific} 收`,
      customer.country !== senderCountry ? (COUNTRY_NAMES[customer.country] ?? customer.country) : null,
    ]);
  }
  const cityLine =
    customer.country === 'GB'
      ? compact([customer.city, customer.postal_code]).join(' ')
      : compact([compact([customer.district, customer.city]).join(', '), customer.province, customer.postal_code]).join(
          ' ',
        );
  return compact([
    customer.salutation && customer.salutation !== customer.full_name
      ? `${customer.salutation.split(' ')[0]} ${customer.full_name}`
      : customer.full_name,
    customer.address_line2 && customer.country === 'GB'
      ? `${customer.address_line2}, ${customer.address_line1}`
      : customer.address_line1,
    customer.country === 'GB' ? null : customer.address_line2,
    cityLine,
    customer.country !== senderCountry ? (COUNTRY_NAMES[customer.country] ?? customer.country) : null,
  ]);
}
