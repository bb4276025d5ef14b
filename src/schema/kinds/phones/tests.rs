use super::*;

fn key(s: &str, region: &str) -> Result<String, String> {
    parse(s, Region::parse(region).expect("region")).map(|p| p.key())
}

/// The normalisation table: what people type, the region it is read in, its match key.
#[test]
fn phone_forms_of_several_regions_normalise_to_e164() {
    for (typed, region, want) in [
        // China: mobiles, landlines, the 0 trunk prefix, 00 and + international prefixes.
        ("13800138000", "CN", "+8613800138000"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("138-0013-8000", "CN", "+8613800138000"),
        ("+86 138 0013 8000", "CN", "+8613800138000"),
        ("0086 138 0013 8000", "CN", "+8613800138000"),
        ("+86 (0)755 1234 5678", "CN", "+8675512345678"),
        ("0755-12345678", "CN", "+8675512345678"),
        ("(0755) 1234 5678", "CN", "+8675512345678"),
        ("010-87654321", "CN", "+861087654321"),
        ("0755-12345678转801", "CN", "+8675512345678;ext=801"),
        ("0755-12345678#801", "CN", "+8675512345678;ext=801"),
        ("95588", "CN", "95588"),
        // 179xx is also an IP-call carrier prefix: a mobile is still a mobile.
        ("17992006503", "CN", "+8617992006503"),
        ("１３８ ００１３ ８０００", "CN", "+8613800138000"),
        ("（０７５５）１２３４５６７８", "CN", "+8675512345678"),
        // The United States, as the public customers-100 sample writes them.
        ("229.077.5154", "US", "+12290775154"),
        ("+1-940-986-3836x4639", "US", "+19409863836;ext=4639"),
        ("(266)131-7001x711", "US", "+12661317001;ext=711"),
        ("5153435776", "US", "+15153435776"),
        ("(415) 555-0100 ext. 12", "US", "+14155550100;ext=12"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        // The same sample read in China: 00 is China's international prefix.
        ("001-808-617-6467x12895", "CN", "+18086176467;ext=12895"),
        ("+1-940-986-3836x4639", "CN", "+19409863836;ext=4639"),
        // Elsewhere.
        ("+44 20 7946 0958", "CN", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("030 1234567", "DE", "+49301234567"),
        ("+49 (0)30 1234567", "US", "+49301234567"),
        ("06 12 34 56 78", "FR", "+33612345678"),
    ] {
        assert_eq!(
            key(typed, region).as_deref(),
            Ok(want),
            "{typed} in {region}"
        );
    }
}

#[test]
fn only_impossible_numbers_are_refused() {
    for (typed, region) in [
        ("-1199", "CN"),
        ("1234", "CN"),
        ("phone", "CN"),
        ("+86 abc", "CN"),
        ("++86 1", "CN"),
        ("+86 1", "CN"),
        ("0755_1234", "CN"),
        ("12345678901234567890", "CN"),
        ("+1 381234567", "CN"),
        ("001-808-617-6467x12895", "US"),
        ("12345678901234", "US"),
        ("123x", "CN"),
    ] {
        assert!(
            key(typed, region).is_err(),
            "{typed} in {region}: {:?}",
            key(typed, region)
        );
    }
}

#[test]
fn regions_are_two_letter_codes() {
    assert_eq!(Region::parse("us").map(Region::code).as_deref(), Ok("US"));
    assert_eq!(Region::DEFAULT.code(), "CN");
    assert!(Region::parse("XX").is_err());
    assert!(Region::parse("USA").is_err());
}
