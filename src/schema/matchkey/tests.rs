//! The normalisation table: each suffix, full-width forms, brackets, phones of several
//! regions with extensions.

use super::*;

fn cn() -> Region {
    Region::parse("CN").expect("CN")
}

#[test]
fn every_company_suffix_is_removed() {
    for s in [
        "有限公司",
        "有限责任公司",
        "股份有限公司",
        "集团有限公司",
        "集团股份有限公司",
        "集团",
        "公司",
        "股份公司",
        " Co., Ltd.",
        " Co.,Ltd",
        " Ltd.",
        " Limited",
        " Inc.",
        " Inc",
        ", Inc.",
        " LLC",
        " GmbH",
        " Corp.",
        " Corporation",
        " Company",
        " PLC",
    ] {
        let name = format!("彩虹网络{s}");
        assert_eq!(company(&name).as_deref(), Some("彩虹网络"), "{name}");
    }
    assert_eq!(company("Acme Co., Ltd.").as_deref(), Some("acme"));
    assert_eq!(company("ACME Inc").as_deref(), Some("acme"));
}

#[test]
fn the_issues_pair_has_one_key() {
    let a = company("彩虹网络有限公司");
    assert_eq!(a, company("彩虹网络 (有限公司)"));
    assert_eq!(a, company("彩虹网络（有限公司）"));
    assert_eq!(a, company("【彩虹网络】有限公司"));
    assert_eq!(a, company(" 彩虹 网络 有限 公司 "));
    assert_eq!(a.as_deref(), Some("彩虹网络"));
}

#[test]
fn full_width_and_case_fold() {
    assert_eq!(company("ＡＢＣ科技有限公司"), company("abc科技"));
    assert_eq!(person("Ｚｈａｎｇ　Ｗｅｉ").as_deref(), Some("zhangwei"));
    assert_eq!(company("１２３网络"), company("123网络"));
}

#[test]
fn a_branch_keeps_its_suffix() {
    assert_eq!(
        company("彩虹网络北京分公司").as_deref(),
        Some("彩虹网络北京分公司")
    );
    assert_ne!(company("彩虹网络北京分公司"), company("彩虹网络"));
    assert_eq!(
        company("彩虹网络有限公司北京分公司").as_deref(),
        Some("彩虹网络有限公司北京分公司")
    );
}

#[test]
fn latin_suffixes_are_whole_words() {
    assert_eq!(company("Costco").as_deref(), Some("costco"));
    assert_eq!(company("Bancorp").as_deref(), Some("bancorp"));
    assert_eq!(company("Zinc").as_deref(), Some("zinc"));
}

#[test]
fn a_name_that_is_only_a_suffix_keeps_it() {
    assert_eq!(company("有限公司").as_deref(), Some("有限公司"));
    assert_eq!(company("集团").as_deref(), Some("集团"));
    assert_eq!(company("  "), None);
}

#[test]
fn emails_and_credit_codes() {
    assert_eq!(email(" Li@Example.COM ").as_deref(), Some("li@example.com"));
    assert_eq!(email(""), None);
    assert_eq!(
        credit_code("91350100m000100y43").as_deref(),
        Some("91350100M000100Y43")
    );
}

#[test]
fn phones_of_several_regions() {
    let us = Region::parse("US").expect("US");
    let gb = Region::parse("GB").expect("GB");
    assert_eq!(
        phone("138 0013 8000", cn()).as_deref(),
        Some("+8613800138000")
    );
    assert_eq!(phone("+86 138-0013-8000", cn()), phone("13800138000", cn()));
    assert_eq!(phone("0086 13800138000", cn()), phone("13800138000", cn()));
    assert_eq!(
        phone("(010) 6552-9988", cn()).as_deref(),
        Some("+861065529988")
    );
    assert_eq!(phone("229.077.5154", us).as_deref(), Some("+12290775154"));
    assert_eq!(
        phone("+1-940-986-3836x4639", us).as_deref(),
        Some("+19409863836;ext=4639")
    );
    assert_eq!(phone("020 7946 0958", gb).as_deref(), Some("+442079460958"));
    assert_eq!(
        phone("010-65529988转123", cn()).as_deref(),
        Some("+861065529988;ext=123")
    );
    assert_eq!(phone("", cn()), None);
}
