//! The small plant many tests start from: flour (kg) bought from a mill, bread (a finished
//! good) sold to a shop. Each entry is a command's arguments, for whichever runner a test
//! uses (through a server or straight to the file, killed or not).

/// The first command on a new plant's file: it makes the file (commands never do).
pub const FLOUR: &[&str] = &[
    "--create", "item", "add", "FLOUR", "--name", "Flour", "--unit", "kg",
];
pub const BREAD: &[&str] = &[
    "item", "add", "BREAD", "--name", "Bread", "--unit", "kg", "--kind", "finished",
];
pub const MILL: &[&str] = &[
    "party", "add", "MILL", "--name", "Mill", "--role", "supplier",
];
pub const SHOP: &[&str] = &[
    "party", "add", "SHOP", "--name", "Shop", "--role", "customer",
];

/// A receipt of `qty` kg of flour from the mill, its supplier lot `supplier_lot`.
pub fn receipt<'a>(supplier_lot: &'a str, qty: &'a str) -> [&'a str; 9] {
    [
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        supplier_lot,
        "--qty",
        qty,
    ]
}
