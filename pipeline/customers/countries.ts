// ISO 3166-1 alpha-2: the 249 officially assigned country codes (as of the 2024 edition). User-
// assigned and reserved codes (XX, ZZ, EU, UK …) are not countries; "UK" is read as a name for GB.
export const ISO_COUNTRIES: ReadonlySet<string> = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS ' +
    'BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE ' +
    'EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM ' +
    'HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC ' +
    'LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA ' +
    'NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW ' +
    'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO ' +
    'TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
  ).split(' '),
);

// The first two digits of a Chinese postal code name the province (province-level division).
const PROVINCE_POSTAL_PREFIXES: [names: string[], prefixes: string[]][] = [
  [['北京', 'beijing'], ['10']],
  [['上海', 'shanghai'], ['20']],
  [['天津', 'tianjin'], ['30']],
  [['重庆', 'chongqing'], ['40']],
  [
    ['内蒙古', 'inner mongolia', 'nei mongol'],
    ['01', '02'],
  ],
  [
    ['山西', 'shanxi'],
    ['03', '04'],
  ],
  [
    ['河北', 'hebei'],
    ['05', '06', '07'],
  ],
  [
    ['辽宁', 'liaoning'],
    ['11', '12'],
  ],
  [['吉林', 'jilin'], ['13']],
  [
    ['黑龙江', 'heilongjiang'],
    ['15', '16'],
  ],
  [
    ['江苏', 'jiangsu'],
    ['21', '22'],
  ],
  [
    ['安徽', 'anhui'],
    ['23', '24'],
  ],
  [
    ['山东', 'shandong'],
    ['25', '26', '27'],
  ],
  [
    ['浙江', 'zhejiang'],
    ['31', '32'],
  ],
  [
    ['江西', 'jiangxi'],
    ['33', '34'],
  ],
  [
    ['福建', 'fujian'],
    ['35', '36'],
  ],
  [
    ['湖南', 'hunan'],
    ['41', '42'],
  ],
  [
    ['湖北', 'hubei'],
    ['43', '44'],
  ],
  [
    ['河南', 'henan'],
    ['45', '46', '47'],
  ],
  [
    ['广东', 'guangdong'],
    ['51', '52'],
  ],
  [
    ['广西', 'guangxi'],
    ['53', '54'],
  ],
  [
    ['贵州', 'guizhou'],
    ['55', '56'],
  ],
  [['海南', 'hainan'], ['57']],
  [
    ['四川', 'sichuan'],
    ['61', '62', '63', '64'],
  ],
  [
    ['云南', 'yunnan'],
    ['65', '66', '67'],
  ],
  [
    ['陕西', 'shaanxi'],
    ['71', '72'],
  ],
  [
    ['甘肃', 'gansu'],
    ['73', '74'],
  ],
  [['宁夏', 'ningxia'], ['75']],
  [['青海', 'qinghai'], ['81']],
  [
    ['新疆', 'xinjiang'],
    ['83', '84'],
  ],
  [
    ['西藏', 'tibet', 'xizang'],
    ['85', '86'],
  ],
];

const BY_NAME = new Map(PROVINCE_POSTAL_PREFIXES.flatMap(([names, prefixes]) => names.map((n) => [n, prefixes])));

/** The postal-code prefixes of a province named in Chinese or pinyin, or undefined if not known. */
// A file names few distinct provinces: each spelling is normalised once (bounded, for odd files).
const byGiven = new Map<string, string[] | undefined>();

export function provincePostalPrefixes(province: string): string[] | undefined {
  if (byGiven.has(province)) return byGiven.get(province);
  const prefixes = lookupProvince(province);
  if (byGiven.size < 10_000) byGiven.set(province, prefixes);
  return prefixes;
}

function lookupProvince(province: string): string[] | undefined {
  const p = province
    .trim()
    .toLowerCase()
    .replace(/(壮族自治区|回族自治区|维吾尔自治区|自治区|省|市)$/, '')
    .replace(/\s+(province|municipality|shi|sheng|autonomous region)$/, '');
  return BY_NAME.get(p);
}
