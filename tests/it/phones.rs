//! Phones as the world writes them: the public `customers-100.csv` sample's forms import,
//! read in a region (`--phone-region`, default CN); only impossible numbers are refused,
//! and what was typed is what a record shows.

use crate::harness::{Env, write};

/// Rows as the widely used `customers-100.csv` sample writes them (its columns, its phone
/// forms), with two impossible numbers planted.
const SAMPLE: &str = "\
Index,Customer Id,First Name,Last Name,Company,City,Country,Phone 1,Phone 2,Email,Subscription Date,Website
1,DD37Cf93aecA6Dc,Sheryl,Baxter,Rasmussen Group,East Leonard,Chile,229.077.5154,397.884.0519x718,zunigavanessa@smith.info,2020-08-24,http://www.stephenson.com/
2,1Ef7b82A4CAAD10,Preston,Lozano,Vega-Gentry,East Jimmychester,Djibouti,5153435776,686-620-1820x944,vmata@colon.com,2021-04-23,http://www.hobbs.com/
3,6F94879bDAfE5a6,Roy,Berry,Murillo-Perry,Isabelborough,Antigua and Barbuda,+1-539-402-0259,(496)978-3969x58947,beckycarr@hogan.com,2020-03-25,http://www.lawrence.com/
4,5Cef8BFA16c5e3c,Linda,Olsen,\"Dominguez, Mcmillan and Donovan\",Bensonview,Dominican Republic,001-808-617-6467x12895,+1-813-324-8756,stanleyblackwell@benson.org,2020-06-02,http://www.good-lyons.com/
5,053d585Ab6b3159,Joanna,Bender,\"Martin, Lang and Andrade\",West Priscilla,Slovakia,001-234-203-0635x76146,001-199-446-3860x3486,colinalvarado@miles.net,2021-04-17,https://goodwin-ingram.com/
6,2d08FB17EE273F4,Aimee,Downs,Steele Group,Chavezborough,Bosnia and Herzegovina,(283)437-3886x88321,999-728-1637,louis27@gilbert.com,2020-02-25,http://www.berger.net/
7,EA4d384DfDbBf77,Darren,Peck,\"Lester, Woodard and Mitchell\",Lake Ana,Pitcairn Islands,(496)452-6181x3291,+1-247-266-0963x4995,tgates@cantrell.com,2021-08-24,https://www.le.com/
8,0e04AFde9f225dE,Brett,Mullen,\"Sanford, Davenport and Giles\",Kimport,Bulgaria,001-583-352-7197x297,001-333-145-0369,asnow@colon.com,2021-04-12,https://hammond-ramsey.com/
9,C2dE4dEEc489ae0,Sheryl,Meyers,Browning-Simon,Robersonstad,Cyprus,854-138-4911x5772,+1-448-910-2276x729,mariokhan@ryan-pope.org,2020-01-13,https://www.bullock.net/
10,8C2811a503C7c5a,Michelle,Gallagher,Beck-Hendrix,Elaineberg,Timor-Leste,739.218.2516x459,001-054-401-0347x617,mdyer@escobar.net,2021-11-08,https://arias.com/
11,216E205d6eBb815,Carl,Schroeder,\"Oconnell, Meza and Everett\",Shannonville,Guernsey,637-854-0256x825,114.336.0784x788,kirksalas@webb.com,2021-10-20,https://simmons-hurley.com/
12,CEDec94deE6d69B,Jenna,Dodson,\"Hoffman, Reed and Mcclain\",East Andrea,Vietnam,(041)737-3846,+1-556-888-3485x42608,mark42@robbins.com,2022-05-18,http://www.hudson.com/
90,A1b2C3d4E5f6A7b,Planted,Bad,Impossible One,Nowhere,Chile,-1199,+1-556-888-3485,x@example.com,2022-05-18,http://example.com/
91,B1b2C3d4E5f6A7b,Planted,Bad,Impossible Two,Nowhere,Chile,+1 (555) 01,+1-556-888-3485,y@example.com,2022-05-18,http://example.com/
";

fn import_sample(env: &Env, phone_column: &str, extra: &[&str]) -> serde_json::Value {
    let f = env.path("customers-100.csv");
    write(&f, SAMPLE);
    let map = format!("{phone_column}=phone");
    let mut args = vec![
        "import",
        "customer",
        f.to_str().expect("path"),
        "--map",
        "Company=name",
        "--map",
        &map,
        "--ignore-unknown",
        "--on-error",
        "skip",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let r = env.run(&args);
    r.code(4);
    r.json()
}

#[test]
fn the_public_sample_imports_with_only_impossible_numbers_rejected() {
    let env = Env::new();
    // Default region CN: `001-…` is China's international prefix, so every US form reads.
    let s = import_sample(&env, "Phone 1", &[]);
    assert_eq!(s["inserted"], 12, "{s}");
    assert_eq!(s["rejected"], 2, "{s}");
    // What was typed is what the record keeps and shows.
    let typed: Vec<String> = env
        .find("customer", &[])
        .iter()
        .map(|r| r["phone"].as_str().expect("phone").to_string())
        .collect();
    for want in [
        "229.077.5154",
        "001-808-617-6467x12895",
        "(283)437-3886x88321",
    ] {
        assert!(typed.iter().any(|t| t == want), "{want} in {typed:?}");
    }
    // The second phone column, read in the US: there `00` is no international prefix
    // (011 is) and no area code starts with 1, so four of its numbers are impossible.
    let env = Env::new();
    let s = import_sample(&env, "Phone 2", &["--phone-region", "US"]);
    assert_eq!(s["inserted"], 10, "{s}");
    let bad: Vec<&str> = s["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    assert_eq!(bad.len(), 4, "{s}");
    for (e, typed) in bad.iter().zip([
        "001-199-446-3860x3486",
        "001-333-145-0369",
        "001-054-401-0347x617",
        "114.336.0784x788",
    ]) {
        assert!(
            e.contains(typed) && e.contains("not a possible number for US"),
            "{e}"
        );
    }
}

#[test]
fn a_region_changes_what_is_possible_and_rows_name_the_reason() {
    let env = Env::new();
    // In the US, 00 is no international prefix: `001-808-…` is 13 digits, impossible.
    let f = env.path("p.csv");
    write(
        &f,
        "name,phone\nA,001-808-617-6467x12895\nB,(266)131-7001x711\nC,+86 138 0013 8000\n",
    );
    let rejects = env.path("rejects.csv");
    env.run(&[
        "import",
        "customer",
        f.to_str().expect("path"),
        "--phone-region",
        "us",
        "--on-error",
        "skip",
        "--rejects",
        rejects.to_str().expect("path"),
    ])
    .code(4);
    assert_eq!(env.count("customer"), 2);
    let rej = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(rej.contains("not a possible number for US"), "{rej}");
    // An unknown region is a usage error before any work.
    env.run(&[
        "import",
        "customer",
        f.to_str().expect("path"),
        "--phone-region",
        "XX",
    ])
    .code(2)
    .one_error_line();
    assert_eq!(env.count("customer"), 2);
}

#[test]
fn flags_read_phones_in_the_default_region() {
    let env = Env::new();
    for typed in [
        "+1-940-986-3836x4639",
        "0755-12345678转801",
        "0755 1234 5678 #801",
        "(0755) 1234-5678",
        "+44 20 7946 0958 ext. 12",
    ] {
        let id = env.add("customer", &["--name", typed, "--phone", typed]);
        assert_eq!(env.record("customer", id)["phone"], typed);
    }
    for bad in ["-1199", "12", "+1 381234567", "call me"] {
        env.run(&["add", "customer", "--name", "x", "--phone", bad])
            .code(4)
            .one_error_line();
    }
    let c = env.add("customer", &["--name", "Acme"]);
    env.run(&[
        "edit",
        "customer",
        &c.to_string(),
        "--phone",
        "(415) 555-0100 x12",
    ])
    .ok();
    env.run(&["edit", "customer", &c.to_string(), "--phone", "+1 555 01"])
        .code(4);
    assert_eq!(env.record("customer", c)["phone"], "(415) 555-0100 x12");
}
