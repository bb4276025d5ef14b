//! What an entity does beside holding fields, declared next to it in the registry: which of
//! its records are still open, the lists `crm show` gives under one, and what the `sales` and
//! `service` roles may do with it. The integrity tests check every name used here.

/// Which records of an entity are open — still need work — for `show` and `agenda`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// The entity has no such notion: every record counts.
    Always,
    /// Open while `field` holds none of these values (a deal not yet won or lost).
    Unless(&'static str, &'static [&'static str]),
    /// Open while `field` is empty (an activity not yet done).
    WhileNull(&'static str),
}

/// One list `crm show` gives under a record: the records of `entity` that refer to it
/// through `via`.
#[derive(Debug, Clone, Copy)]
pub struct Related {
    pub entity: &'static str,
    pub via: &'static str,
    /// Only the open records (see [`Open`]).
    pub open_only: bool,
    /// The field sorted by first, and whether descending.
    pub sort: &'static str,
    pub desc: bool,
    pub en: &'static str,
    pub zh: &'static str,
}

/// What the restricted roles may do with an entity (admin, manager and viewer rights do not
/// depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    /// `sales` may create, change and delete the records it owns.
    pub sales_write: bool,
    /// `service` may read it.
    pub service_read: bool,
    /// `service` may create and change it.
    pub service_write: bool,
}

impl Rights {
    /// Only the unrestricted roles write it; `service` does not see it.
    pub const NONE: Rights = Rights {
        sales_write: false,
        service_read: false,
        service_write: false,
    };
    /// Sales work: `sales` writes its own records.
    pub const SALES: Rights = Rights {
        sales_write: true,
        ..Rights::NONE
    };
    /// Sales work that service reads too (a customer and its contacts).
    pub const SALES_SERVICE_READ: Rights = Rights {
        sales_write: true,
        service_read: true,
        service_write: false,
    };
    /// Reference data that service reads (products).
    pub const SERVICE_READ: Rights = Rights {
        service_read: true,
        ..Rights::NONE
    };
    /// Service work: `service` reads, opens and works it.
    pub const SERVICE: Rights = Rights {
        sales_write: false,
        service_read: true,
        service_write: true,
    };
}
