// Template helpers: money, dates, salutations, defaults and comparisons, locale-aware.
import type Handlebars from 'handlebars';

type Options = Handlebars.HelperOptions;

interface CustomerLike {
  full_name?: string | null;
  family_name?: string | null;
  gender?: string | null;
  salutation?: string | null;
  locale?: string | null;
  timezone?: string | null;
}

function rootCustomer(options: Options): CustomerLike {
  return ((options.data?.root as { customer?: CustomerLike } | undefined)?.customer ?? {}) as CustomerLike;
}

/** 王先生 / 王女士 (Chinese: family name first), Mr Smith / Ms Smith; the full name when gender is unknown. */
export function salutationFor(c: CustomerLike): string {
  if (c.salutation) return c.salutation;
  const chinese = (c.locale ?? '').startsWith('zh');
  const family = c.family_name ?? '';
  if (!family || (c.gender !== 'male' && c.gender !== 'female')) return c.full_name ?? '';
  if (chinese) return `${family}${c.gender === 'male' ? '先生' : '女士'}`;
  return `${c.gender === 'male' ? 'Mr' : 'Ms'} ${family}`;
}

export function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('money', function (this: unknown, value: unknown, ...rest: unknown[]) {
    const options = rest.pop() as Options;
    const currency = typeof rest[0] === 'string' ? rest[0] : 'CNY';
    const locale = (options.hash.locale as string | undefined) ?? rootCustomer(options).locale ?? 'zh-CN';
    const amount = typeof value === 'number' ? value : Number(value);
    if (value === null || value === undefined || Number.isNaN(amount)) return '';
    return new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'symbol' }).format(amount);
  });
  hb.registerHelper('date', function (this: unknown, value: unknown, ...rest: unknown[]) {
    const options = rest.pop() as Options;
    const style = (typeof rest[0] === 'string' ? rest[0] : 'long') as 'full' | 'long' | 'medium' | 'short';
    if (value === null || value === undefined || value === '') return '';
    const customer = rootCustomer(options);
    const locale = (options.hash.locale as string | undefined) ?? customer.locale ?? 'zh-CN';
    const date =
      typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)
        ? new Date(`${value}T12:00:00Z`)
        : new Date(value as string);
    const dateOnly = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
    return new Intl.DateTimeFormat(locale, {
      dateStyle: style,
      timeZone: dateOnly ? 'UTC' : (customer.timezone ?? 'Asia/Shanghai'),
    }).format(date);
  });
  hb.registerHelper('salutation', function (this: unknown, value: unknown, options?: Options) {
    const customer = (options ? value : undefined) as CustomerLike | undefined;
    return salutationFor(customer ?? rootCustomer(value as Options));
  });
  hb.registerHelper('default', (value: unknown, fallback: unknown) =>
    value === null || value === undefined || value === '' ? fallback : value,
  );
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  hb.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
  hb.registerHelper('lt', (a: unknown, b: unknown) => Number(a) < Number(b));
  hb.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hb.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
}
