// Names for synthetic customers: common Chinese family names (with pinyin, weighted roughly by
// frequency), given-name characters, and English names.
export const CHINESE_FAMILY_NAMES: readonly (readonly [string, string, number])[] = [
  ['王', 'wang', 72], ['李', 'li', 71], ['张', 'zhang', 68], ['刘', 'liu', 53], ['陈', 'chen', 45], ['杨', 'yang', 31],
  ['黄', 'huang', 23], ['赵', 'zhao', 20], ['吴', 'wu', 19], ['周', 'zhou', 18], ['徐', 'xu', 14], ['孙', 'sun', 13],
  ['马', 'ma', 12], ['朱', 'zhu', 11], ['胡', 'hu', 10], ['郭', 'guo', 10], ['何', 'he', 9], ['高', 'gao', 9],
  ['林', 'lin', 9], ['罗', 'luo', 8], ['郑', 'zheng', 8], ['梁', 'liang', 7], ['谢', 'xie', 6], ['宋', 'song', 5],
  ['唐', 'tang', 5], ['许', 'xu', 5], ['韩', 'han', 4], ['冯', 'feng', 4], ['邓', 'deng', 4], ['曹', 'cao', 4],
  ['欧阳', 'ouyang', 1], ['司马', 'sima', 1],
];

// [character, pinyin, leans female | male | either]
export const CHINESE_GIVEN_CHARS: readonly (readonly [string, string, 'f' | 'm' | 'x'])[] = [
  ['伟', 'wei', 'm'], ['强', 'qiang', 'm'], ['磊', 'lei', 'm'], ['军', 'jun', 'm'], ['勇', 'yong', 'm'], ['杰', 'jie', 'm'],
  ['涛', 'tao', 'm'], ['斌', 'bin', 'm'], ['浩', 'hao', 'm'], ['宇', 'yu', 'm'], ['鹏', 'peng', 'm'], ['志', 'zhi', 'm'],
  ['建', 'jian', 'm'], ['国', 'guo', 'm'], ['峰', 'feng', 'm'], ['明', 'ming', 'x'], ['文', 'wen', 'x'], ['华', 'hua', 'x'],
  ['平', 'ping', 'x'], ['晓', 'xiao', 'x'], ['子', 'zi', 'x'], ['欣', 'xin', 'x'], ['佳', 'jia', 'x'], ['嘉', 'jia', 'x'],
  ['芳', 'fang', 'f'], ['娜', 'na', 'f'], ['敏', 'min', 'f'], ['静', 'jing', 'f'], ['丽', 'li', 'f'], ['艳', 'yan', 'f'],
  ['婷', 'ting', 'f'], ['雪', 'xue', 'f'], ['慧', 'hui', 'f'], ['琳', 'lin', 'f'], ['颖', 'ying', 'f'], ['玉', 'yu', 'f'],
  ['梅', 'mei', 'f'], ['霞', 'xia', 'f'], ['倩', 'qian', 'f'], ['璐', 'lu', 'f'],
];

export const ENGLISH_GIVEN_NAMES: readonly (readonly [string, 'female' | 'male'])[] = [
  ['James', 'male'], ['Oliver', 'male'], ['William', 'male'], ['Henry', 'male'], ['Thomas', 'male'], ['Daniel', 'male'],
  ['Michael', 'male'], ['David', 'male'], ['Samuel', 'male'], ['George', 'male'],
  ['Emma', 'female'], ['Olivia', 'female'], ['Charlotte', 'female'], ['Amelia', 'female'], ['Sophie', 'female'],
  ['Grace', 'female'], ['Emily', 'female'], ['Hannah', 'female'], ['Lucy', 'female'], ['Isabella', 'female'],
];

export const ENGLISH_FAMILY_NAMES = [
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright', 'Thompson',
  'Evans', 'Walker', 'White', 'Roberts', "O'Brien", 'Green', 'Hall', 'Wood', 'Clarke',
] as const;

export const ACCOUNT_MANAGERS = ['周敏', '陈志强', '李晓燕', '王建国', '张婷', '刘鹏', '黄丽', '吴斌'] as const;

export const COMPANY_WORDS = ['华东', '恒通', '鑫达', '宏远', '新世纪', '金桥', '瑞丰', '长江', '东方', '中信', '远航', '博雅'] as const;

export const INDUSTRIES: readonly (readonly [string, string, number])[] = [
  ['finance', '金融', 20], ['education', '教育', 15], ['telecoms', '通信', 10], ['manufacturing', '制造', 25],
  ['retail', '零售', 15], ['government', '政务', 8], ['healthcare', '医疗', 7],
];
