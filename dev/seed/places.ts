// Places for synthetic addresses. Chinese postal codes have 6 digits and the first two name the
// province (10 Beijing, 20 Shanghai, 21 Jiangsu, 31 Zhejiang, 51 Guangdong, 61 Sichuan …).
export interface City {
  province: string;
  city: string;
  /** The first four digits of the city's postal codes. */
  postalPrefix: string;
  districts: readonly string[];
  streets: readonly string[];
  weight: number;
  english: { city: string; districts: readonly string[]; streets: readonly string[] };
}

export const CHINESE_CITIES: readonly City[] = [
  {
    province: '北京市',
    city: '北京市',
    postalPrefix: '1000',
    districts: ['东城区', '西城区', '朝阳区', '海淀区', '丰台区'],
    streets: ['建国门内大街', '复兴门外大街', '中关村大街', '朝阳北路', '西单北大街'],
    weight: 14,
    english: {
      city: 'Beijing',
      districts: ['Dongcheng', 'Xicheng', 'Chaoyang', 'Haidian', 'Fengtai'],
      streets: [
        'Jianguomennei Avenue',
        'Fuxingmenwai Avenue',
        'Zhongguancun Street',
        'Chaoyang North Road',
        'Xidan North Street',
      ],
    },
  },
  {
    province: '上海市',
    city: '上海市',
    postalPrefix: '2000',
    districts: ['黄浦区', '徐汇区', '静安区', '浦东新区', '长宁区'],
    streets: ['南京东路', '淮海中路', '世纪大道', '延安西路', '衡山路'],
    weight: 14,
    english: {
      city: 'Shanghai',
      districts: ['Huangpu', 'Xuhui', "Jing'an", 'Pudong', 'Changning'],
      streets: ['East Nanjing Road', 'Middle Huaihai Road', 'Century Avenue', 'West Yan’an Road', 'Hengshan Road'],
    },
  },
  {
    province: '江苏省',
    city: '南京市',
    postalPrefix: '2100',
    districts: ['玄武区', '秦淮区', '鼓楼区', '建邺区'],
    streets: ['中山路', '汉中路', '北京东路', '江东中路'],
    weight: 8,
    english: {
      city: 'Nanjing',
      districts: ['Xuanwu', 'Qinhuai', 'Gulou', 'Jianye'],
      streets: ['Zhongshan Road', 'Hanzhong Road', 'East Beijing Road', 'Middle Jiangdong Road'],
    },
  },
  {
    province: '江苏省',
    city: '苏州市',
    postalPrefix: '2150',
    districts: ['姑苏区', '吴中区', '工业园区'],
    streets: ['人民路', '干将路', '星湖街'],
    weight: 6,
    english: {
      city: 'Suzhou',
      districts: ['Gusu', 'Wuzhong', 'Industrial Park'],
      streets: ['Renmin Road', 'Ganjiang Road', 'Xinghu Street'],
    },
  },
  {
    province: '浙江省',
    city: '杭州市',
    postalPrefix: '3100',
    districts: ['上城区', '西湖区', '拱墅区', '滨江区'],
    streets: ['延安路', '文三路', '天目山路', '江南大道'],
    weight: 9,
    english: {
      city: 'Hangzhou',
      districts: ['Shangcheng', 'Xihu', 'Gongshu', 'Binjiang'],
      streets: ["Yan'an Road", 'Wensan Road', 'Tianmushan Road', 'Jiangnan Avenue'],
    },
  },
  {
    province: '广东省',
    city: '广州市',
    postalPrefix: '5100',
    districts: ['越秀区', '天河区', '海珠区', '荔湾区'],
    streets: ['环市东路', '天河路', '江南大道中', '中山五路'],
    weight: 10,
    english: {
      city: 'Guangzhou',
      districts: ['Yuexiu', 'Tianhe', 'Haizhu', 'Liwan'],
      streets: ['East Huanshi Road', 'Tianhe Road', 'Middle Jiangnan Avenue', 'Zhongshan 5th Road'],
    },
  },
  {
    province: '广东省',
    city: '深圳市',
    postalPrefix: '5180',
    districts: ['福田区', '南山区', '罗湖区', '宝安区'],
    streets: ['深南大道', '科技园路', '华强北路', '宝安大道'],
    weight: 10,
    english: {
      city: 'Shenzhen',
      districts: ['Futian', 'Nanshan', 'Luohu', "Bao'an"],
      streets: ['Shennan Avenue', 'Science Park Road', 'Huaqiang North Road', "Bao'an Avenue"],
    },
  },
  {
    province: '四川省',
    city: '成都市',
    postalPrefix: '6100',
    districts: ['锦江区', '青羊区', '武侯区', '成华区'],
    streets: ['春熙路', '人民南路', '天府大道', '蜀都大道'],
    weight: 8,
    english: {
      city: 'Chengdu',
      districts: ['Jinjiang', 'Qingyang', 'Wuhou', 'Chenghua'],
      streets: ['Chunxi Road', 'South Renmin Road', 'Tianfu Avenue', 'Shudu Avenue'],
    },
  },
  {
    province: '湖北省',
    city: '武汉市',
    postalPrefix: '4300',
    districts: ['江岸区', '武昌区', '洪山区'],
    streets: ['解放大道', '中南路', '珞喻路'],
    weight: 6,
    english: {
      city: 'Wuhan',
      districts: ["Jiang'an", 'Wuchang', 'Hongshan'],
      streets: ['Jiefang Avenue', 'Zhongnan Road', 'Luoyu Road'],
    },
  },
  {
    province: '陕西省',
    city: '西安市',
    postalPrefix: '7100',
    districts: ['碑林区', '雁塔区', '新城区'],
    streets: ['长安北路', '雁塔路', '东大街'],
    weight: 5,
    english: {
      city: "Xi'an",
      districts: ['Beilin', 'Yanta', 'Xincheng'],
      streets: ['North Chang’an Road', 'Yanta Road', 'East Street'],
    },
  },
];

export const HONG_KONG = {
  districts: ['中西區', '灣仔區', '油尖旺區', '沙田區'],
  streets: ['皇后大道中', '軒尼詩道', '彌敦道', '沙田正街'],
};

export const ABROAD = [
  {
    country: 'GB',
    city: 'London',
    postal: ['SW1A 2AA', 'EC1A 1BB', 'W1A 0AX', 'N1 9GU'],
    streets: ['High Street', 'Station Road', 'Church Lane', 'Park Road'],
    timezone: 'Europe/London',
    phonePrefix: '+447911',
  },
  {
    country: 'US',
    city: 'New York, NY',
    postal: ['10001', '10011', '10016', '10128'],
    streets: ['Broadway', 'Park Avenue', 'Lexington Avenue', 'West 72nd Street'],
    timezone: 'America/New_York',
    phonePrefix: '+1212',
  },
] as const;
