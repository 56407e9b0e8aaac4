//! The five reference orders of `../shared/spec/sale-order.md` ("Five reference orders"):
//! the composite log each must produce, for the tests and the soak that check sagas
//! against the specification instead of against a copy of it.
//!
//! Two events published by different contexts in reaction to the same event may come
//! in either order in the composite log; compare each domain's own log exactly
//! ([`crate::saga::domain_of`] tells an event's domain) and the composite log as a
//! causal order.

/// How a reference order goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reference {
    /// 1. In stock, area served, paid validly, delivered.
    Delivered,
    /// 2. Out of stock.
    OutOfStock,
    /// 3. In stock, area not served.
    AreaNotServed,
    /// 4. In stock, area served, never paid: `reminders` reminders, then canceled (the
    ///    specification's run has 3, the `reminders` setting's default).
    NeverPaid {
        /// Reminders before the order is canceled.
        reminders: u32,
    },
    /// 5. Paid validly, shipment failed, the first `repayment_failures` repayments fail
    ///    (the specification's run has 1).
    FailedAndRepaid {
        /// Repayment attempts that fail before one succeeds.
        repayment_failures: u32,
    },
}

impl Reference {
    /// The five, as the specification runs them.
    pub const ALL: [Reference; 5] = [
        Reference::Delivered,
        Reference::OutOfStock,
        Reference::AreaNotServed,
        Reference::NeverPaid { reminders: 3 },
        Reference::FailedAndRepaid {
            repayment_failures: 1,
        },
    ];

    /// The order's composite log, event names in the specification's order.
    pub fn names(self) -> Vec<&'static str> {
        const PAID: [&str; 8] = [
            "order-placed",
            "confirmed-product-availability",
            "confirmed-sales-area",
            "payment-requested",
            "notified-customer-of-payment-requested",
            "payment-received",
            "payment-confirmed",
            "shipment-scheduled",
        ];
        let mut names = Vec::new();
        match self {
            Reference::Delivered => {
                names.extend(PAID);
                names.extend([
                    "shipment-delivered",
                    "notified-customer-of-shipment-delivered",
                ]);
            }
            Reference::OutOfStock => names.extend([
                "order-placed",
                "order-canceled",
                "notified-customer-of-product-unavailable",
                "notified-customer-of-order-canceled",
            ]),
            Reference::AreaNotServed => names.extend([
                "order-placed",
                "confirmed-product-availability",
                "order-canceled",
                "notified-customer-of-sales-area-unavailable",
                "notified-customer-of-order-canceled",
            ]),
            Reference::NeverPaid { reminders } => {
                names.extend(&PAID[..5]);
                for _ in 0..reminders {
                    names.extend([
                        "payment-request-reminded",
                        "notified-customer-of-payment-reminder",
                    ]);
                }
                names.extend(["order-canceled", "notified-customer-of-order-canceled"]);
            }
            Reference::FailedAndRepaid { repayment_failures } => {
                names.extend(PAID);
                names.extend(["shipment-failed", "notified-customer-of-shipment-failed"]);
                for _ in 0..repayment_failures {
                    names.extend([
                        "payment-repayment-failed",
                        "notified-customer-of-repayment-failed",
                    ]);
                }
                names.extend([
                    "payment-repaid-to-customer",
                    "notified-customer-of-repaid-payment",
                ]);
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_orders_have_its_lengths_and_ends() {
        let lengths: Vec<usize> = Reference::ALL.iter().map(|r| r.names().len()).collect();
        assert_eq!(lengths, [10, 4, 5, 13, 14]);
        for reference in Reference::ALL {
            assert_eq!(reference.names()[0], "order-placed");
        }
        assert_eq!(
            Reference::NeverPaid { reminders: 0 }.names()[5..],
            ["order-canceled", "notified-customer-of-order-canceled"]
        );
    }
}
