//! The entities of the CRM and their fields: flat and long on purpose, the single source
//! for tables, flags, prompts, validation, CSV headers, JSON keys and `crm schema`.

use super::kinds::{Choice, Kind};
use super::{Default, Entity, Field, Open, Related, Rights};

const fn f(name: &'static str, kind: Kind, en: &'static str, zh: &'static str) -> Field {
    Field {
        name,
        kind,
        en,
        zh,
        required: false,
        unique: false,
        default: Default::None,
        read_only: false,
        wide: false,
        search: false,
        custom: false,
    }
}

impl Field {
    const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    const fn uniq(mut self) -> Self {
        self.unique = true;
        self
    }
    const fn def(mut self, d: Default) -> Self {
        self.default = d;
        self
    }
    const fn ro(mut self) -> Self {
        self.read_only = true;
        self
    }
    const fn wide(mut self) -> Self {
        self.wide = true;
        self
    }
    const fn search(mut self) -> Self {
        self.search = true;
        self
    }
}

const TEXT: Kind = Kind::Text;
const MONEY: Kind = Kind::Money { min_zero: true };
const QUANTITY: Kind = Kind::Integer {
    min: 1,
    max: 1_000_000_000,
};
const PERCENT: Kind = Kind::Integer { min: 0, max: 100 };

/// `id`, then `created_at` and `updated_at`: present on every record, set only by crm.
pub static SYSTEM_FIELDS: [Field; 3] = [
    f(
        "id",
        Kind::Integer {
            min: 1,
            max: i64::MAX,
        },
        "ID",
        "编号",
    )
    .ro(),
    f("created_at", Kind::DateTime, "Created at", "创建时间")
        .ro()
        .wide(),
    f("updated_at", Kind::DateTime, "Updated at", "更新时间")
        .ro()
        .wide(),
];

const CUSTOMER_KIND: &[Choice] = &[("company", "企业"), ("person", "个人")];
const CUSTOMER_LEVEL: &[Choice] = &[("A", "A类"), ("B", "B类"), ("C", "C类"), ("D", "D类")];
const CUSTOMER_STATUS: &[Choice] = &[
    ("prospect", "潜在客户"),
    ("active", "活跃客户"),
    ("inactive", "休眠客户"),
    ("lost", "已流失"),
];
const LEAD_STATUS: &[Choice] = &[
    ("new", "新线索"),
    ("contacted", "已联系"),
    ("qualified", "已确认"),
    ("disqualified", "无效"),
    ("converted", "已转化"),
];
/// Opportunity stages in funnel order; the probability each one implies is in `rules`.
pub const STAGES: &[Choice] = &[
    ("prospecting", "初步接洽"),
    ("qualification", "需求确认"),
    ("proposal", "方案报价"),
    ("negotiation", "商务谈判"),
    ("won", "赢单"),
    ("lost", "输单"),
];
const QUOTE_STATUS: &[Choice] = &[
    ("draft", "草稿"),
    ("sent", "已发送"),
    ("accepted", "已接受"),
    ("rejected", "已拒绝"),
    ("expired", "已过期"),
];
const ORDER_STATUS: &[Choice] = &[
    ("draft", "草稿"),
    ("confirmed", "已确认"),
    ("shipped", "已发货"),
    ("paid", "已付款"),
    ("cancelled", "已取消"),
];
/// `expired` is never stored: an `active` contract reads as expired once its `end_date` has
/// passed (see `db::query::shown_column`); it is a choice so `--where status=expired` parses.
const CONTRACT_STATUS: &[Choice] = &[
    ("draft", "起草"),
    ("active", "执行中"),
    ("expired", "已到期"),
    ("terminated", "已终止"),
];
const ACTIVITY_TYPE: &[Choice] = &[
    ("call", "电话"),
    ("meeting", "会议"),
    ("visit", "拜访"),
    ("email", "邮件"),
    ("wechat", "微信"),
    ("note", "备注"),
    ("task", "任务"),
];
const TICKET_TYPE: &[Choice] = &[
    ("inquiry", "咨询"),
    ("complaint", "投诉"),
    ("repair", "维修"),
    ("return", "退货"),
    ("other", "其他"),
];
const PRIORITY: &[Choice] = &[
    ("low", "低"),
    ("normal", "中"),
    ("high", "高"),
    ("urgent", "紧急"),
];
const TICKET_STATUS: &[Choice] = &[
    ("new", "新建"),
    ("open", "处理中"),
    ("pending", "待反馈"),
    ("resolved", "已解决"),
    ("closed", "已关闭"),
];
/// The statuses of a ticket still being worked on, and of a finished one.
pub const TICKET_OPEN: &[&str] = &["new", "open", "pending"];
pub const TICKET_CLOSED: &[&str] = &["resolved", "closed"];
const CAMPAIGN_TYPE: &[Choice] = &[
    ("email", "邮件营销"),
    ("event", "线下活动"),
    ("webinar", "线上活动"),
    ("ads", "广告"),
    ("other", "其他"),
];
const CAMPAIGN_STATUS: &[Choice] = &[
    ("planned", "策划中"),
    ("active", "执行中"),
    ("completed", "已结束"),
];

const OWNER: Field = f("owner", Kind::User, "Owner", "负责人").def(Default::CurrentUser);
const NOTES: Field = f("notes", TEXT, "Notes", "备注").wide();
const CURRENCY: Field =
    f("currency", Kind::Currency, "Currency", "币种").def(Default::Value("CNY"));

/// What `crm show` lists under a customer, in this order.
const CUSTOMER_RELATED: &[Related] = &[
    related("contact", false, "is_primary", true, "Contacts", "联系人"),
    related(
        "opportunity",
        true,
        "expected_close",
        false,
        "Open opportunities",
        "进行中的销售机会",
    ),
    related(
        "quote",
        true,
        "valid_until",
        false,
        "Open quotes",
        "未结报价",
    ),
    // Latest first by when it was done; plans not yet done come after them.
    related(
        "activity",
        false,
        "done_at",
        true,
        "Latest activities",
        "最近跟进",
    ),
    related("contract", false, "end_date", true, "Contracts", "合同"),
    related(
        "ticket",
        true,
        "opened_at",
        true,
        "Open tickets",
        "未结工单",
    ),
    related("order", false, "order_date", true, "Orders", "订单"),
];

/// A list under a customer: the records of `entity` whose `customer` is it.
const fn related(
    entity: &'static str,
    open_only: bool,
    sort: &'static str,
    desc: bool,
    en: &'static str,
    zh: &'static str,
) -> Related {
    Related {
        entity,
        via: "customer",
        open_only,
        sort,
        desc,
        en,
        zh,
    }
}

/// Every entity, in the order `crm schema` lists them.
pub static ENTITIES: &[Entity] = &[
    Entity {
        name: "customer",
        en: "Customer",
        zh: "客户",
        key: Some("code"),
        owner: Some("owner"),
        owner_via: None,
        title: "name",
        open: Open::Always,
        related: CUSTOMER_RELATED,
        rights: Rights::SALES_SERVICE_READ,
        fields: &[
            f("code", TEXT, "Code", "客户编号")
                .uniq()
                .def(Default::Generated("C"))
                .search(),
            f("name", TEXT, "Name", "客户名称").req().search(),
            f("kind", Kind::Choice(CUSTOMER_KIND), "Kind", "客户类型")
                .def(Default::Value("company")),
            f("industry", TEXT, "Industry", "所属行业"),
            f("level", Kind::Choice(CUSTOMER_LEVEL), "Level", "客户等级"),
            f(
                "status",
                Kind::Choice(CUSTOMER_STATUS),
                "Status",
                "客户状态",
            )
            .def(Default::Value("prospect")),
            f("source", TEXT, "Source", "客户来源"),
            OWNER,
            f("phone", Kind::Phone, "Phone", "电话").search(),
            f("email", Kind::Email, "Email", "邮箱").search(),
            f("website", TEXT, "Website", "网址").wide(),
            f("city", TEXT, "City", "城市").search(),
            f("address", TEXT, "Address", "地址").wide(),
            f("tags", Kind::Tags, "Tags", "标签"),
            f("credit_code", Kind::CreditCode, "Credit code", "信用代码")
                .uniq()
                .wide()
                .search(),
            NOTES,
            f("segment", TEXT, "Segment", "客户细分").ro().wide(),
            f(
                "last_contacted_at",
                Kind::DateTime,
                "Last contacted",
                "最近跟进",
            )
            .ro()
            .wide(),
        ],
    },
    Entity {
        name: "contact",
        en: "Contact",
        zh: "联系人",
        key: None,
        owner: None,
        owner_via: Some("customer"),
        title: "name",
        open: Open::Always,
        related: &[],
        rights: Rights::SALES_SERVICE_READ,
        fields: &[
            f("customer", Kind::Ref("customer"), "Customer", "所属客户").req(),
            f("name", TEXT, "Name", "姓名").req().search(),
            f("title", TEXT, "Title", "职务"),
            f("phone", Kind::Phone, "Phone", "电话").search(),
            f("mobile", Kind::Phone, "Mobile", "手机").search(),
            f("email", Kind::Email, "Email", "邮箱").search(),
            f("wechat", TEXT, "WeChat", "微信"),
            f("is_primary", Kind::Bool, "Primary", "主联系人").def(Default::Value("false")),
            NOTES,
        ],
    },
    Entity {
        name: "campaign",
        en: "Campaign",
        zh: "市场活动",
        key: Some("name"),
        owner: Some("owner"),
        owner_via: None,
        title: "name",
        open: Open::Always,
        related: &[],
        rights: Rights::NONE,
        fields: &[
            f("name", TEXT, "Name", "活动名称").req().uniq().search(),
            f("type", Kind::Choice(CAMPAIGN_TYPE), "Type", "活动类型").def(Default::Value("other")),
            f(
                "status",
                Kind::Choice(CAMPAIGN_STATUS),
                "Status",
                "活动状态",
            )
            .def(Default::Value("planned")),
            f("start_date", Kind::Date, "Start date", "开始日期"),
            f("end_date", Kind::Date, "End date", "结束日期"),
            f("budget", MONEY, "Budget", "预算"),
            f("actual_cost", MONEY, "Actual cost", "实际成本"),
            f("expected_revenue", MONEY, "Expected revenue", "预期收入"),
            OWNER,
            NOTES,
        ],
    },
    Entity {
        name: "lead",
        en: "Lead",
        zh: "营销线索",
        key: None,
        owner: Some("owner"),
        owner_via: None,
        title: "name",
        open: Open::Unless("status", &["converted", "disqualified"]),
        related: &[],
        rights: Rights::SALES,
        fields: &[
            f("name", TEXT, "Name", "姓名").req().search(),
            f("company", TEXT, "Company", "公司名称").search(),
            f("phone", Kind::Phone, "Phone", "电话").search(),
            f("email", Kind::Email, "Email", "邮箱").search(),
            f("source", TEXT, "Source", "线索来源"),
            f("campaign", Kind::Ref("campaign"), "Campaign", "市场活动"),
            f("status", Kind::Choice(LEAD_STATUS), "Status", "线索状态").def(Default::Value("new")),
            OWNER,
            NOTES,
        ],
    },
    Entity {
        name: "opportunity",
        en: "Opportunity",
        zh: "销售机会",
        key: None,
        owner: Some("owner"),
        owner_via: None,
        title: "name",
        open: Open::Unless("stage", &["won", "lost"]),
        related: &[],
        rights: Rights::SALES,
        fields: &[
            f("customer", Kind::Ref("customer"), "Customer", "客户").req(),
            f("name", TEXT, "Name", "机会名称").req().search(),
            f("stage", Kind::Choice(STAGES), "Stage", "销售阶段")
                .def(Default::Value("prospecting")),
            f("amount", MONEY, "Amount", "预计金额"),
            CURRENCY,
            f("probability", PERCENT, "Probability", "成交概率"),
            f("expected_close", Kind::Date, "Expected close", "预计成交"),
            OWNER,
            f("source", TEXT, "Source", "来源"),
            f("campaign", Kind::Ref("campaign"), "Campaign", "市场活动"),
            f("lost_reason", TEXT, "Lost reason", "丢单原因"),
            f("closed_at", Kind::DateTime, "Closed at", "关闭时间").ro(),
            NOTES,
        ],
    },
    Entity {
        name: "product",
        en: "Product",
        zh: "产品",
        key: Some("code"),
        owner: None,
        owner_via: None,
        title: "name",
        open: Open::Always,
        related: &[],
        rights: Rights::SERVICE_READ,
        fields: &[
            f("code", TEXT, "Code", "产品编号")
                .uniq()
                .def(Default::Generated("P"))
                .search(),
            f("name", TEXT, "Name", "产品名称").req().search(),
            f("unit_price", MONEY, "Unit price", "单价"),
            f("unit", TEXT, "Unit", "单位"),
            f("active", Kind::Bool, "Active", "是否启用").def(Default::Value("true")),
            NOTES,
        ],
    },
    Entity {
        name: "quote",
        en: "Quote",
        zh: "报价",
        key: Some("number"),
        owner: Some("owner"),
        owner_via: None,
        title: "number",
        open: Open::Unless("status", &["accepted", "rejected", "expired"]),
        related: &[],
        rights: Rights::SALES,
        fields: &[
            f("number", TEXT, "Number", "报价单号")
                .uniq()
                .def(Default::Generated("Q"))
                .search(),
            f("customer", Kind::Ref("customer"), "Customer", "客户").req(),
            f(
                "opportunity",
                Kind::Ref("opportunity"),
                "Opportunity",
                "销售机会",
            ),
            f("valid_until", Kind::Date, "Valid until", "有效期至"),
            f("status", Kind::Choice(QUOTE_STATUS), "Status", "报价状态")
                .def(Default::Value("draft")),
            f("amount", MONEY, "Amount", "报价金额").ro(),
            CURRENCY,
            OWNER,
            NOTES,
        ],
    },
    Entity {
        name: "quote_line",
        en: "Quote line",
        zh: "报价明细",
        key: None,
        owner: None,
        owner_via: Some("quote"),
        title: "product",
        open: Open::Always,
        related: &[],
        rights: Rights::SALES,
        fields: &[
            f("quote", Kind::Ref("quote"), "Quote", "报价单").req(),
            f("product", Kind::Ref("product"), "Product", "产品").req(),
            f("quantity", QUANTITY, "Quantity", "数量").def(Default::Value("1")),
            f("unit_price", MONEY, "Unit price", "单价"),
            f("discount", PERCENT, "Discount %", "折扣%").def(Default::Value("0")),
            f("amount", MONEY, "Amount", "金额").ro(),
        ],
    },
    Entity {
        name: "order",
        en: "Order",
        zh: "订单",
        key: Some("number"),
        owner: Some("owner"),
        owner_via: None,
        title: "number",
        open: Open::Always,
        related: &[],
        rights: Rights::SALES,
        fields: &[
            f("number", TEXT, "Number", "订单编号")
                .uniq()
                .def(Default::Generated("SO"))
                .search(),
            f("customer", Kind::Ref("customer"), "Customer", "客户").req(),
            f(
                "opportunity",
                Kind::Ref("opportunity"),
                "Opportunity",
                "销售机会",
            ),
            f("quote", Kind::Ref("quote"), "Quote", "报价单"),
            f("order_date", Kind::Date, "Order date", "下单日期").def(Default::Today),
            f("status", Kind::Choice(ORDER_STATUS), "Status", "订单状态")
                .def(Default::Value("draft")),
            f("amount", MONEY, "Amount", "订单金额"),
            CURRENCY,
            OWNER,
            NOTES,
        ],
    },
    Entity {
        name: "order_line",
        en: "Order line",
        zh: "订单明细",
        key: None,
        owner: None,
        owner_via: Some("order"),
        title: "product",
        open: Open::Always,
        related: &[],
        rights: Rights::SALES,
        fields: &[
            f("order", Kind::Ref("order"), "Order", "订单").req(),
            f("product", Kind::Ref("product"), "Product", "产品").req(),
            f("quantity", QUANTITY, "Quantity", "数量").def(Default::Value("1")),
            f("unit_price", MONEY, "Unit price", "单价"),
            f("discount", PERCENT, "Discount %", "折扣%").def(Default::Value("0")),
            f("amount", MONEY, "Amount", "金额").ro(),
        ],
    },
    Entity {
        name: "contract",
        en: "Contract",
        zh: "合同",
        key: Some("number"),
        owner: Some("owner"),
        owner_via: None,
        title: "title",
        open: Open::Always,
        related: &[],
        rights: Rights::SALES,
        fields: &[
            f("number", TEXT, "Number", "合同编号")
                .uniq()
                .def(Default::Generated("HT"))
                .search(),
            f("customer", Kind::Ref("customer"), "Customer", "客户").req(),
            f("title", TEXT, "Title", "合同名称").req().search(),
            f("amount", MONEY, "Amount", "合同金额"),
            CURRENCY,
            f("signed_date", Kind::Date, "Signed date", "签订日期"),
            f("start_date", Kind::Date, "Start date", "开始日期"),
            f("end_date", Kind::Date, "End date", "到期日期"),
            f(
                "status",
                Kind::Choice(CONTRACT_STATUS),
                "Status",
                "合同状态",
            )
            .def(Default::Value("draft")),
            OWNER,
            NOTES,
        ],
    },
    Entity {
        name: "activity",
        en: "Activity",
        zh: "跟进记录",
        key: None,
        owner: Some("owner"),
        owner_via: None,
        title: "subject",
        open: Open::WhileNull("done_at"),
        related: &[],
        rights: Rights::SALES,
        fields: &[
            f("customer", Kind::Ref("customer"), "Customer", "客户").req(),
            f("contact", Kind::Ref("contact"), "Contact", "联系人"),
            f(
                "opportunity",
                Kind::Ref("opportunity"),
                "Opportunity",
                "销售机会",
            ),
            f("type", Kind::Choice(ACTIVITY_TYPE), "Type", "跟进方式").def(Default::Value("note")),
            f("subject", TEXT, "Subject", "主题").req().search(),
            f("due_at", Kind::DateTime, "Due at", "计划时间"),
            f("done_at", Kind::DateTime, "Done at", "完成时间"),
            OWNER,
            NOTES,
        ],
    },
    Entity {
        name: "ticket",
        en: "Ticket",
        zh: "服务工单",
        key: Some("number"),
        owner: None,
        owner_via: None,
        title: "subject",
        open: Open::Unless("status", TICKET_CLOSED),
        related: &[],
        rights: Rights::SERVICE,
        fields: &[
            f("number", TEXT, "Number", "工单编号")
                .uniq()
                .def(Default::Generated("T"))
                .search(),
            f("customer", Kind::Ref("customer"), "Customer", "客户").req(),
            f("contact", Kind::Ref("contact"), "Contact", "联系人"),
            f("type", Kind::Choice(TICKET_TYPE), "Type", "服务类型").def(Default::Value("inquiry")),
            f("subject", TEXT, "Subject", "主题").req().search(),
            f("priority", Kind::Choice(PRIORITY), "Priority", "优先级")
                .def(Default::Value("normal")),
            f("status", Kind::Choice(TICKET_STATUS), "Status", "处理状态")
                .def(Default::Value("new")),
            f("assignee", Kind::User, "Assignee", "处理人"),
            f("opened_at", Kind::DateTime, "Opened at", "受理时间").def(Default::Now),
            f("resolved_at", Kind::DateTime, "Resolved at", "解决时间").ro(),
            f(
                "satisfaction",
                Kind::Integer { min: 1, max: 5 },
                "Satisfaction",
                "满意度",
            ),
            NOTES,
        ],
    },
];

/// Other column names `import` accepts for a field, beyond its name and labels: what Chinese
/// and English spreadsheets commonly call it. `("*", field, …)` applies to every entity that
/// has the field. Each name must point at one field of an entity only (a unit test checks
/// every entity), so `手机` is a customer's phone but not a contact's, whose `手机` is the
/// mobile field's own label.
pub static SYNONYMS: &[(&str, &str, &[&str])] = &[
    (
        "*",
        "email",
        &["电子邮件", "电子邮箱", "邮件地址", "e-mail", "mail"],
    ),
    // A contact's customer is labelled 所属客户, every other record's 客户: each reads both.
    (
        "*",
        "customer",
        &["客户", "所属客户", "客户编号", "客户代码"],
    ),
    (
        "*",
        "owner",
        &["销售", "业务员", "客户经理", "归属人", "所有者"],
    ),
    (
        "*",
        "notes",
        &["说明", "备注信息", "note", "remark", "remarks"],
    ),
    (
        "customer",
        "name",
        &[
            "公司名称",
            "企业名称",
            "单位名称",
            "公司",
            "客户名",
            "company",
            "company name",
            "customer name",
        ],
    ),
    (
        "customer",
        "code",
        &["客户代码", "客户编码", "客户号", "customer code"],
    ),
    (
        "customer",
        "credit_code",
        &[
            "统一社会信用代码",
            "社会信用代码",
            "纳税人识别号",
            "税号",
            "unified social credit code",
            "uscc",
        ],
    ),
    (
        "customer",
        "phone",
        &[
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "座机",
            "mobile",
            "tel",
            "telephone",
        ],
    ),
    ("customer", "level", &["等级", "级别", "客户级别"]),
    ("customer", "status", &["状态"]),
    ("customer", "kind", &["类型", "客户性质"]),
    ("customer", "industry", &["行业"]),
    ("customer", "source", &["来源"]),
    ("customer", "city", &["所在城市", "所在地"]),
    ("customer", "address", &["详细地址", "公司地址", "联系地址"]),
    ("customer", "website", &["网站", "官网", "公司网站"]),
    ("contact", "name", &["联系人", "联系人姓名", "名字"]),
    ("contact", "title", &["职位", "岗位"]),
    (
        "contact",
        "phone",
        &["座机", "办公电话", "固定电话", "电话号码"],
    ),
    ("contact", "mobile", &["手机号", "手机号码", "移动电话"]),
    ("contact", "wechat", &["微信号"]),
    (
        "lead",
        "company",
        &["公司", "企业名称", "单位名称", "客户名称"],
    ),
    ("lead", "name", &["联系人", "名字"]),
    ("lead", "phone", &["手机", "手机号", "手机号码", "联系电话"]),
    ("product", "unit_price", &["价格", "售价"]),
];

/// The synonyms of one field of one entity.
pub fn synonyms(entity: &str, field: &str) -> impl Iterator<Item = &'static str> + use<> {
    let (entity, field) = (entity.to_string(), field.to_string());
    SYNONYMS
        .iter()
        .filter(move |(e, f, _)| (*e == "*" || *e == entity) && *f == field)
        .flat_map(|(_, _, names)| names.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name a column can have (field name, labels, synonyms) means one field per entity.
    #[test]
    fn column_names_are_never_ambiguous() {
        for e in ENTITIES {
            let mut seen: Vec<(String, &str)> = Vec::new();
            for f in e.columns() {
                let names = [f.name.to_string(), f.en.to_lowercase(), f.zh.to_lowercase()]
                    .into_iter()
                    .chain(synonyms(e.name, f.name).map(str::to_lowercase));
                for n in names {
                    if let Some((_, other)) = seen.iter().find(|(s, g)| *s == n && *g != f.name) {
                        panic!("{}: '{n}' names both {other} and {}", e.name, f.name);
                    }
                    seen.push((n, f.name));
                }
            }
        }
        for (e, f, _) in SYNONYMS {
            assert!(
                *e == "*" || ENTITIES.iter().any(|x| x.name == *e && x.field(f).is_ok()),
                "{e}.{f} is not a field"
            );
        }
    }
}
