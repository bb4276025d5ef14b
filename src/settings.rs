//! The settings `crm config` reads and writes: each key once, with its kind, default and
//! meaning, so validation, `config list`, help and the features that read a setting agree.
//! Pure: storage is `db::settings`.

use crate::error::{Error, Result};

/// What values a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number of days, 0 turning the rule off.
    Days,
    /// A count, 0 meaning no limit.
    Limit,
    /// `true` or `false` (also yes/no, on/off, 1/0).
    Bool,
    /// A two-letter region code (ISO 3166-1 alpha-2), stored upper-case.
    Region,
    /// A comma-separated list of the given choices (empty: none).
    List(&'static [&'static str]),
    /// One of the given choices.
    OneOf(&'static [&'static str]),
    /// A comma-separated list of `ENTITY.FIELD`s of the registry (`mask::parse_fields`).
    Fields,
}

/// One setting.
#[derive(Debug)]
pub struct Setting {
    pub key: &'static str,
    pub kind: Kind,
    pub default: &'static str,
    pub about: &'static str,
    pub about_zh: &'static str,
}

/// Every setting, in `crm config list` order.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "phone.region",
        kind: Kind::Region,
        default: "CN",
        about: "Region of phone numbers written without a country code",
        about_zh: "未带国家码的电话号码所属地区",
    },
    Setting {
        key: "pool.no_followup_days",
        kind: Kind::Days,
        default: "30",
        about: "Return a customer to the pool after this many days without a follow-up (0: never)",
        about_zh: "超过多少天未跟进退回公海（0 表示不退回）",
    },
    Setting {
        key: "pool.no_deal_days",
        kind: Kind::Days,
        default: "90",
        about: "Return a customer to the pool after this many days owned without a won deal (0: never)",
        about_zh: "领取后超过多少天未成交退回公海（0 表示不退回）",
    },
    Setting {
        key: "pool.max_per_user",
        kind: Kind::Limit,
        default: "0",
        about: "Most customers one salesperson may hold (0: no limit)",
        about_zh: "每人最多拥有的客户数（0 表示不限）",
    },
    Setting {
        key: "pool.count_won",
        kind: Kind::Bool,
        default: "false",
        about: "Whether customers with a won deal count toward pool.max_per_user",
        about_zh: "已成交客户是否计入拥有上限",
    },
    Setting {
        key: "pool.daily_claims",
        kind: Kind::Limit,
        default: "0",
        about: "Most customers one user may claim from the pool in a day (0: no limit)",
        about_zh: "每人每天最多领取的客户数（0 表示不限）",
    },
    Setting {
        key: "pool.reclaim_after_days",
        kind: Kind::Days,
        default: "0",
        about: "Days before a user may claim again a customer they released or lost (0: at once)",
        about_zh: "放弃或被收回的客户多少天后才能再次领取（0 表示立即）",
    },
    Setting {
        key: "pool.exempt_levels",
        kind: Kind::List(&["A", "B", "C", "D"]),
        default: "",
        about: "Customer levels the sweep never returns to the pool",
        about_zh: "不退回公海的客户等级",
    },
    Setting {
        key: "pool.exempt_contract",
        kind: Kind::Bool,
        default: "true",
        about: "A customer with an active contract is never returned to the pool",
        about_zh: "有生效合同的客户不退回公海",
    },
    Setting {
        key: "pool.exempt_won",
        kind: Kind::Bool,
        default: "true",
        about: "A customer with a won deal is never returned to the pool",
        about_zh: "已成交的客户不退回公海",
    },
    Setting {
        key: "pool.open_work",
        kind: Kind::OneOf(&["stay", "pool"]),
        default: "stay",
        about: "When a customer returns to the pool, its open opportunities and plans stay with their owner (stay) or lose it too (pool)",
        about_zh: "客户退回公海时，其未结束的商机和计划保留原负责人（stay）或一并释放（pool）",
    },
    Setting {
        key: "mask.viewer",
        kind: Kind::Fields,
        default: MASK_ALL,
        about: "Fields the viewer role sees masked (ENTITY.FIELD, comma-separated)",
        about_zh: "只读用户看到脱敏的字段（实体.字段，逗号分隔）",
    },
    Setting {
        key: "mask.service",
        kind: Kind::Fields,
        default: MASK_ALL,
        about: "Fields the service role sees masked (ENTITY.FIELD, comma-separated)",
        about_zh: "客服看到脱敏的字段（实体.字段，逗号分隔）",
    },
    Setting {
        key: "mask.sales",
        kind: Kind::Fields,
        default: "customer.phone,customer.email,contact.phone,contact.mobile,contact.email",
        about: "Fields sales see masked on records they do not own, pool customers included",
        about_zh: "销售在非本人负责的记录（含公海客户）上看到脱敏的字段",
    },
    Setting {
        key: "mask.manager",
        kind: Kind::Fields,
        default: "",
        about: "Fields the manager role sees masked (admin always sees every value)",
        about_zh: "经理看到脱敏的字段（管理员总能看到全部）",
    },
    Setting {
        key: "mask.reveal_roles",
        kind: Kind::List(&crate::roles::ROLES),
        default: "admin,manager",
        about: "Roles that may pass --reveal to see masked values (each reveal is audited)",
        about_zh: "可用 --reveal 查看脱敏字段原值的角色（每次查看都记入审计）",
    },
];

/// What viewer and service see masked by default: the phones, mobiles and e-mails of
/// customers, contacts and leads.
const MASK_ALL: &str = "customer.phone,customer.email,contact.phone,contact.mobile,contact.email,lead.phone,lead.email";

/// The setting a key names, or exit 2 with the keys there are.
pub fn find(key: &str) -> Result<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key).ok_or_else(|| {
        Error::usage(format!("unknown setting '{}'", key.escape_debug()))
            .hint("`crm config list` shows every setting")
    })
}

impl Setting {
    /// The value as stored: checked against the kind and written one way (exit 4 if bad).
    pub fn normalise(&self, raw: &str) -> Result<String> {
        let v = raw.trim();
        let bad = |why: &str| {
            Error::invalid(format!(
                "invalid value '{}' for {}: {why}",
                raw.escape_debug(),
                self.key
            ))
        };
        match self.kind {
            Kind::Days | Kind::Limit => v
                .parse::<u32>()
                .map(|n| n.to_string())
                .map_err(|_| bad("want a whole number, 0 or more")),
            Kind::Bool => match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok("true".into()),
                "false" | "no" | "off" | "0" => Ok("false".into()),
                _ => Err(bad("want true or false")),
            },
            Kind::Region => crate::schema::kinds::phones::Region::parse(v)
                .map(crate::schema::kinds::phones::Region::code)
                .map_err(|_| bad("want a two-letter region code such as CN or US")),
            Kind::OneOf(choices) => choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(v))
                .map(|c| (*c).to_string())
                .ok_or_else(|| bad(&format!("want one of {}", choices.join(", ")))),
            Kind::Fields => crate::mask::parse_fields(v).map_err(|why| bad(&why)),
            Kind::List(choices) => {
                let mut out: Vec<&str> = Vec::new();
                for item in v
                    .split([',', '，'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                {
                    let c = choices
                        .iter()
                        .find(|c| c.eq_ignore_ascii_case(item))
                        .ok_or_else(|| {
                            bad(&format!("'{item}' is not one of {}", choices.join(", ")))
                        })?;
                    if !out.contains(c) {
                        out.push(c);
                    }
                }
                Ok(out.join(","))
            }
        }
    }

    /// What values the setting takes, for `config list`.
    pub fn kind_name(&self) -> String {
        match self.kind {
            Kind::Days => "days".into(),
            Kind::Limit => "count".into(),
            Kind::Bool => "bool".into(),
            Kind::Region => "region".into(),
            Kind::OneOf(c) => c.join("|"),
            Kind::List(c) => format!("list of {}", c.join(",")),
            Kind::Fields => "list of ENTITY.FIELD".into(),
        }
    }
}

/// A setting's value read as a number (a `Days` or `Limit` key).
pub fn as_number(value: &str) -> u32 {
    value.parse().unwrap_or(0)
}

/// A setting's value read as a flag (a `Bool` key).
pub fn as_bool(value: &str) -> bool {
    value == "true"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_values_of_their_kind() {
        for s in SETTINGS {
            assert_eq!(s.normalise(s.default).unwrap(), s.default, "{}", s.key);
        }
    }

    #[test]
    fn values_are_checked_and_written_one_way() {
        let days = find("pool.no_followup_days").unwrap();
        assert_eq!(days.normalise(" 45 ").unwrap(), "45");
        assert!(days.normalise("-1").is_err());
        assert!(days.normalise("ten").is_err());
        assert_eq!(find("phone.region").unwrap().normalise("us").unwrap(), "US");
        assert!(find("phone.region").unwrap().normalise("USA").is_err());
        let levels = find("pool.exempt_levels").unwrap();
        assert_eq!(levels.normalise("a, b，A").unwrap(), "A,B");
        assert!(levels.normalise("Z").is_err());
        assert_eq!(
            find("pool.count_won").unwrap().normalise("Yes").unwrap(),
            "true"
        );
        assert_eq!(
            find("pool.no_deal_days")
                .unwrap()
                .normalise("x")
                .unwrap_err()
                .kind,
            crate::error::ErrorKind::Invalid
        );
    }

    #[test]
    fn an_unknown_key_is_a_usage_error() {
        assert_eq!(
            find("pool.nope").unwrap_err().kind,
            crate::error::ErrorKind::Usage
        );
    }

    #[test]
    fn exempt_levels_are_the_customer_levels() {
        let e = crate::schema::Entity::get("customer").unwrap();
        let f = e.field("level").unwrap();
        let crate::schema::Kind::Choice(choices) = f.kind else {
            panic!("level is a choice")
        };
        let Kind::List(listed) = find("pool.exempt_levels").unwrap().kind else {
            panic!("a list")
        };
        let names: Vec<&str> = choices.iter().map(|c| c.0).collect();
        assert_eq!(names, listed);
    }
}
