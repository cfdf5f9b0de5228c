// One campaign member as the render queries select it: 王晓明 in Beijing, rank 3 of band A.
import type { MemberRow } from '../../pipeline/render/context.ts';

export function memberRow(over: Partial<MemberRow> = {}): MemberRow {
  return {
    customer_id: 7,
    external_id: 'C7',
    full_name: '王晓明',
    family_name: '王',
    given_name: '晓明',
    gender: 'male',
    salutation: null,
    locale: 'zh-CN',
    email: 'w@example.com',
    phone: '+8613912345678',
    address_line1: '建国门内大街18号',
    address_line2: '3栋1201室',
    district: '东城区',
    city: '北京市',
    province: '北京市',
    postal_code: '100005',
    country: 'CN',
    birthday: '1980-05-12',
    timezone: 'Asia/Shanghai',
    attributes: { annual_spend: 1234.5 },
    rank: 3,
    band: 'A',
    variant: 'x',
    ...over,
  };
}
