//! Words for the trace: row labels, the detail pane, the recall scope and mass balance
//! views, and the export (tree as text, rows as CSV). Pure functions of the loaded data,
//! shared by the screen and the files it writes, so they always agree.

use crate::draw;
use crate::tree::{Glyphs, NodeKind, Row, mark, prefix};
use lotline_domain::words::plural;
use lotline_domain::{Direction, RecallScope, Trace as Graph, TraceShipment};
use lotline_domain::{
    Event, EventKind, Item, ItemCode, Lot, LotId, LotStatus, MassBalance, Origin, Party, PartyId,
    Qty,
};
use std::collections::HashMap;
use std::time::Duration;

/// How a line of a view is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Title,
    Strong,
    Normal,
    Dim,
    Warn,
}

/// A line of a view: text and tone.
pub type Line = (String, Tone);

/// A lot's allergens in the detail pane: the set as its label prints it, then where each
/// came from (its item's declaration, the input lots that carried it in); those its item
/// does not declare are warned about.
pub fn allergen_detail(a: &lotline_domain::LotAllergens) -> Vec<Line> {
    // A lot carrying none shows nothing: most packaging and plain ingredients.
    if a.set.is_empty() {
        return Vec::new();
    }
    let mut v = vec![(format!("Contains {}", a.label), Tone::Strong)];
    for s in &a.sources {
        let mut from: Vec<String> = Vec::new();
        if s.declared {
            from.push(format!("declared on {}", a.item));
        }
        from.extend(s.via.iter().map(|(lot, item)| format!("via {lot} {item}")));
        let tone = if s.declared { Tone::Normal } else { Tone::Warn };
        let undeclared = if s.declared { "" } else { " (NOT DECLARED)" };
        v.push((
            format!("  {}{undeclared}: {}", s.allergen, from.join(", ")),
            tone,
        ));
    }
    v
}

/// The loaded trace with the names it needs, for labels and details.
pub struct Ctx<'a> {
    pub graph: &'a Graph,
    pub lots: &'a HashMap<LotId, usize>,
    pub items: &'a HashMap<ItemCode, Item>,
    pub parties: &'a HashMap<PartyId, Party>,
    /// The separator between parts of a line: " · ", or " | " in ASCII.
    pub dot: &'a str,
}

impl Ctx<'_> {
    pub fn lot(&self, id: LotId) -> Option<&Lot> {
        self.lots.get(&id).and_then(|&i| self.graph.lots.get(i))
    }

    pub fn code(&self, id: LotId) -> String {
        self.lot(id)
            .map(|l| l.code.to_string())
            .unwrap_or_else(|| format!("#{}", id.0))
    }

    pub fn item_name(&self, code: &ItemCode) -> &str {
        self.items
            .get(code)
            .map(|i| i.description.name.as_str())
            .unwrap_or("")
    }

    pub fn party_name(&self, id: &PartyId) -> &str {
        self.parties
            .get(id)
            .map(|p| p.location.business_name.as_str())
            .unwrap_or("")
    }

    /// The unit of a link's quantity: the input lot's.
    fn link_unit(&self, kind: NodeKind) -> String {
        let input = match kind {
            NodeKind::Lot {
                fwd, id, parent, ..
            }
            | NodeKind::Ref {
                fwd, id, parent, ..
            } => {
                if fwd {
                    parent
                } else {
                    id
                }
            }
            _ => return String::new(),
        };
        self.lot(input)
            .map(|l| l.unit.to_string())
            .unwrap_or_default()
    }

    /// "SUNNYRIDGE lot 3325A 2026-11-05" (received) or "made 2026-11-10".
    fn origin(&self, l: &Lot) -> String {
        match &l.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => format!("{supplier} lot {supplier_lot} {}", l.date),
            Origin::Produced { .. } => format!("made {}", l.date),
            Origin::Returned { customer, .. } => format!("returned by {customer} {}", l.date),
            Origin::Partner { source, .. } => format!("known only from {source}"),
        }
    }

    fn flag(l: &Lot) -> String {
        if l.status == LotStatus::Released {
            String::new()
        } else {
            format!(" [{}]", l.status.as_str().to_uppercase())
        }
    }

    /// A row's text after its tree lines and mark.
    pub fn label(&self, kind: NodeKind) -> String {
        match kind {
            NodeKind::Root => match self.lot(self.graph.root) {
                Some(l) => format!(
                    "{} {}{} {}",
                    l.code,
                    l.item,
                    Self::flag(l),
                    self.item_name(&l.item)
                ),
                None => String::new(),
            },
            // An empty direction says so: "nothing shipped" is an answer in a recall.
            NodeKind::Section { fwd: false } => {
                let root = self.graph.root;
                if self.graph.links.iter().any(|l| l.output == root) {
                    return "Backward: what went into it".into();
                }
                match self.lot(root).map(|l| &l.origin) {
                    Some(Origin::Received { .. }) => "Backward: received here, not made".into(),
                    Some(Origin::Partner { .. }) => "Backward: known only from a partner".into(),
                    _ => "Backward: no inputs recorded".into(),
                }
            }
            NodeKind::Section { fwd: true } => {
                let root = self.graph.root;
                if self.graph.links.iter().any(|l| l.input == root)
                    || self.graph.shipments.iter().any(|s| s.lot == root)
                {
                    "Forward: where it went".into()
                } else {
                    "Forward: not used or shipped yet".into()
                }
            }
            NodeKind::Lot { fwd, id, qty, .. } => {
                let Some(l) = self.lot(id) else {
                    return format!("#{}", id.0);
                };
                let dot = self.dot;
                format!(
                    "{} {}{}{dot}{}{dot}{qty} {} {}",
                    l.code,
                    l.item,
                    Self::flag(l),
                    self.origin(l),
                    self.link_unit(kind),
                    if fwd { "in" } else { "used" },
                )
            }
            NodeKind::Ref { id, .. } => match self.lot(id) {
                Some(l) => format!("{} {} (shown above)", l.code, l.item),
                None => format!("#{} (shown above)", id.0),
            },
            NodeKind::Ship(i) => match self.graph.shipments.get(i) {
                Some(s) => ship_text(s),
                None => String::new(),
            },
        }
    }

    /// Everything search looks at for a node: codes, names, supplier lot, customer, reference.
    pub fn search_text(&self, kind: NodeKind) -> String {
        let mut s = self.label(kind);
        let lot = match kind {
            NodeKind::Lot { id, .. } | NodeKind::Ref { id, .. } => self.lot(id),
            NodeKind::Root => self.lot(self.graph.root),
            _ => None,
        };
        if let Some(l) = lot {
            s.push(' ');
            s.push_str(self.item_name(&l.item));
            if let Origin::Received { supplier, .. } = &l.origin {
                s.push(' ');
                s.push_str(self.party_name(supplier));
            }
        }
        if let NodeKind::Ship(i) = kind
            && let Some(sh) = self.graph.shipments.get(i)
        {
            s.push(' ');
            s.push_str(self.party_name(&sh.customer));
            s.push(' ');
            s.push_str(&self.code(sh.lot));
        }
        s.to_lowercase()
    }

    /// The detail pane: every KDE of the node, its status and balance. `made_by` is the
    /// event that created the lot, when loaded.
    pub fn detail(&self, kind: NodeKind, made_by: Option<&Event>, reach: String) -> Vec<Line> {
        let mut v: Vec<Line> = Vec::new();
        let mut add = |t: String, tone: Tone| v.push((t, tone));
        let lot_id = match kind {
            NodeKind::Root => Some(self.graph.root),
            NodeKind::Lot { id, .. } | NodeKind::Ref { id, .. } => Some(id),
            NodeKind::Section { fwd } => {
                add(
                    if fwd {
                        "Forward: batches that used it, their lots, and shipments".into()
                    } else {
                        "Backward: inputs, down to supplier receipts".into()
                    },
                    Tone::Strong,
                );
                if !reach.is_empty() {
                    add(reach, Tone::Normal);
                }
                return v;
            }
            NodeKind::Ship(i) => {
                let Some(s) = self.graph.shipments.get(i) else {
                    return v;
                };
                add(format!("Shipment, event {}", s.event), Tone::Strong);
                add(format!("Date shipped {}", s.date), Tone::Normal);
                add(format!("To {}", s.customer), Tone::Normal);
                if let Some(p) = self.parties.get(&s.customer) {
                    add(p.location.one_line(), Tone::Normal);
                    if !p.location.phone.is_empty() {
                        add(format!("Phone {}", p.location.phone), Tone::Normal);
                    }
                    if let Some(g) = &p.gln {
                        add(format!("GLN {g}"), Tone::Normal);
                    }
                    let c = &p.recall_contact;
                    if !c.is_empty() {
                        add(
                            format!("Recall contact {} {} {}", c.name, c.phone, c.email)
                                .trim_end()
                                .to_string(),
                            Tone::Normal,
                        );
                    }
                }
                add(format!("Quantity {} {}", s.qty, s.unit), Tone::Normal);
                if let Some(l) = self.lot(s.lot) {
                    add(format!("Lot {} {}", l.code, l.item), Tone::Normal);
                    add(self.item_name(&l.item).to_string(), Tone::Normal);
                }
                add(
                    format!(
                        "Reference {}",
                        s.reference
                            .as_ref()
                            .map(|r| r.to_string())
                            .unwrap_or_else(|| "none".into())
                    ),
                    Tone::Normal,
                );
                return v;
            }
        };
        let Some(l) = lot_id.and_then(|id| self.lot(id)) else {
            return v;
        };
        add(format!("Lot {}", l.code), Tone::Strong);
        add(
            format!("{} {}", l.item, self.item_name(&l.item)),
            Tone::Normal,
        );
        if let Some(item) = self.items.get(&l.item) {
            let d = &item.description;
            let more: Vec<&str> = [
                d.brand.as_str(),
                d.commodity.as_str(),
                d.variety.as_str(),
                d.pack_size.as_str(),
                d.pack_style.as_str(),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
            if !more.is_empty() {
                add(more.join(", "), Tone::Dim);
            }
            if item.ftl {
                add("Food Traceability List".into(), Tone::Warn);
            }
        }
        match &l.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => {
                add(format!("Received {}", l.date), Tone::Normal);
                add(
                    format!("From {supplier} {}", self.party_name(supplier))
                        .trim_end()
                        .to_string(),
                    Tone::Normal,
                );
                add(format!("Supplier lot (TLC) {supplier_lot}"), Tone::Normal);
            }
            Origin::Produced { line } => {
                add(
                    match line {
                        Some(line) => format!("Made {} on line {line}", l.date),
                        None => format!("Made {}", l.date),
                    },
                    Tone::Normal,
                );
                if let Some(Event {
                    kind: EventKind::Produce(b),
                    ..
                }) = made_by
                {
                    add(
                        format!(
                            "From {} input lot{}",
                            b.inputs.len(),
                            if b.inputs.len() == 1 { "" } else { "s" }
                        ),
                        Tone::Normal,
                    );
                }
            }
            Origin::Returned {
                customer, shipment, ..
            } => {
                add(format!("Returned {}", l.date), Tone::Normal);
                add(
                    format!("By {customer} {}", self.party_name(customer))
                        .trim_end()
                        .to_string(),
                    Tone::Normal,
                );
                add(format!("Against shipment {shipment}"), Tone::Normal);
            }
            Origin::Partner { identifier, source } => {
                add(format!("Known only from {source}"), Tone::Warn);
                add(format!("Named {} as {identifier}", l.date), Tone::Normal);
            }
        }
        add(format!("Quantity {} {}", l.quantity, l.unit), Tone::Normal);
        add(format!("On hand {} {}", l.balance, l.unit), Tone::Normal);
        add(
            format!("Status {}", l.status),
            if l.status == LotStatus::Released {
                Tone::Normal
            } else {
                Tone::Warn
            },
        );
        if let Some(e) = l.expiry {
            add(format!("Expires {e}"), Tone::Normal);
        }
        if let Some(e) = made_by {
            add(
                format!(
                    "Reference {}",
                    e.reference
                        .as_ref()
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "none".into())
                ),
                Tone::Normal,
            );
            add(
                format!("Event {} by {}@{}", e.id, e.stamp.operator, e.stamp.station),
                Tone::Dim,
            );
        }
        if let NodeKind::Lot {
            fwd, qty, parent, ..
        }
        | NodeKind::Ref {
            fwd, qty, parent, ..
        } = kind
        {
            let unit = self.link_unit(kind);
            let parent = self.code(parent);
            add(
                if fwd {
                    format!("Took {qty} {unit} of {parent}")
                } else {
                    format!("{qty} {unit} used in {parent}")
                },
                Tone::Normal,
            );
        }
        if matches!(kind, NodeKind::Ref { .. }) {
            add("Shown in full above: Enter goes there".into(), Tone::Dim);
        }
        if !reach.is_empty() {
            add(format!("Under it: {reach}"), Tone::Dim);
        }
        v
    }

    /// The tree as text lines, with the same glyphs and labels as the screen.
    pub fn tree_lines(&self, rows: &[Row], g: &Glyphs) -> Vec<String> {
        (0..rows.len())
            .map(|i| {
                format!(
                    "{}{}{}",
                    prefix(rows, i, g),
                    mark(&rows[i], g),
                    self.label(rows[i].kind)
                )
            })
            .collect()
    }
}

pub fn ship_text(s: &TraceShipment) -> String {
    let r = s
        .reference
        .as_ref()
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    format!(
        "shipped {} {} to {} {}{r}",
        s.qty, s.unit, s.customer, s.date
    )
}

/// "0:41", "12:05", "1:02:05".
pub fn elapsed_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The recall scope view.
pub fn scope_lines(ctx: &Ctx, scope: &RecallScope) -> Vec<Line> {
    let mut v: Vec<Line> = Vec::new();
    let dot = ctx.dot;
    let t = &scope.trace;
    let root = ctx.lot(t.root);
    let title = match root {
        Some(l) => format!(
            "Recall scope of {} {} {}",
            l.code,
            l.item,
            ctx.item_name(&l.item)
        ),
        None => "Recall scope".into(),
    };
    v.push((title.trim_end().to_string(), Tone::Title));
    let ships = t.shipments.len();
    v.push((
        format!(
            "{}{dot}{} finished{dot}{} to {}",
            plural(t.lots.len(), "lot reached", "lots reached"),
            scope.finished.len(),
            plural(ships, "shipment", "shipments"),
            plural(scope.customers.len(), "customer", "customers"),
        ),
        Tone::Normal,
    ));
    v.push((
        format!(
            "On hand: {} lot{} to hold, {} already held",
            scope.to_hold.len(),
            if scope.to_hold.len() == 1 { "" } else { "s" },
            scope.already_held.len()
        ),
        if scope.to_hold.is_empty() {
            Tone::Normal
        } else {
            Tone::Warn
        },
    ));
    // The scope's own lots may include lots the screen's trace (backward) lacks.
    let lot = |id: LotId| t.lot(id);
    v.push((String::new(), Tone::Normal));
    v.push((
        format!("Customers ({})", scope.customers.len()),
        Tone::Title,
    ));
    if scope.customers.is_empty() {
        v.push(("Nothing from this lot was shipped.".into(), Tone::Dim));
    }
    for c in &scope.customers {
        let p = &c.party;
        let contact = &p.recall_contact;
        let who = [contact.name.as_str(), contact.phone.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let phone = if who.is_empty() {
            p.location.phone.clone()
        } else {
            who
        };
        v.push((
            if phone.is_empty() {
                format!("{} {}", p.id, p.location.business_name)
            } else {
                format!("{} {}{dot}{phone}", p.id, p.location.business_name)
            },
            Tone::Strong,
        ));
        for s in &c.shipments {
            let (code, item) = lot(s.lot)
                .map(|l| (l.code.to_string(), l.item.to_string()))
                .unwrap_or_default();
            let r = s
                .reference
                .as_ref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default();
            v.push((
                format!("  {} {code} {item} {} {}{r}", s.date, s.qty, s.unit),
                Tone::Normal,
            ));
        }
    }
    v.push((String::new(), Tone::Normal));
    v.push((
        format!("Finished lots ({})", scope.finished.len()),
        Tone::Title,
    ));
    for &id in &scope.finished {
        if let Some(l) = lot(id) {
            v.push((
                format!(
                    "{} {} made {}{dot}{} {}, on hand {} {}{dot}{}",
                    l.code, l.item, l.date, l.quantity, l.unit, l.balance, l.unit, l.status
                ),
                if l.status == LotStatus::Released {
                    Tone::Normal
                } else {
                    Tone::Warn
                },
            ));
        }
    }
    for (title, ids) in [
        ("On hand, to hold", &scope.to_hold),
        ("On hand, already held", &scope.already_held),
    ] {
        v.push((String::new(), Tone::Normal));
        v.push((format!("{title} ({})", ids.len()), Tone::Title));
        for &id in ids {
            if let Some(l) = lot(id) {
                v.push((
                    format!(
                        "{} {} {} {}{dot}{}",
                        l.code, l.item, l.balance, l.unit, l.status
                    ),
                    Tone::Normal,
                ));
            }
        }
    }
    v
}

/// What a mock recall found: the numbers the record keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub lots: usize,
    pub finished: usize,
    pub shipments: usize,
    pub customers: usize,
    pub on_hand: usize,
}

impl Found {
    pub fn of(scope: &RecallScope) -> Found {
        Found {
            lots: scope.trace.lots.len(),
            finished: scope.finished.len(),
            shipments: scope.trace.shipments.len(),
            customers: scope.customers.len(),
            on_hand: scope.to_hold.len() + scope.already_held.len(),
        }
    }
}

/// Which way a mock recall goes: the recall scope's, forward to customers.
pub const RECALL_DIRECTION: Direction = Direction::Forward;

/// The mass balance view: the root's balance, exact, and the mock recall's numbers. The
/// numbers are the recall scope's, always forward from the root, whichever way the tree
/// on screen goes: the lines say so.
pub fn balance_lines(
    ctx: &Ctx,
    m: &MassBalance,
    found: Option<Found>,
    elapsed: Duration,
) -> Vec<Line> {
    let mut v: Vec<Line> = Vec::new();
    let Some(l) = ctx.lot(ctx.graph.root) else {
        return v;
    };
    let u = l.unit;
    v.push((
        format!(
            "Mass balance of {} {} {}",
            l.code,
            l.item,
            ctx.item_name(&l.item)
        )
        .trim_end()
        .to_string(),
        Tone::Title,
    ));
    let row = |name: &str, q: Qty| {
        format!(
            "{} {}",
            draw::pad(name, 20),
            draw::rpad(&format!("{q} {u}"), 14)
        )
    };
    let start = match l.origin {
        Origin::Received { .. } => format!("Received {}", l.date),
        Origin::Produced { .. } => format!("Produced {}", l.date),
        Origin::Returned { .. } => format!("Returned {}", l.date),
        Origin::Partner { .. } => "Named by partners".to_string(),
    };
    v.push((row(&start, m.start), Tone::Normal));
    v.push((row("Consumed in batches", m.consumed), Tone::Normal));
    v.push((row("Shipped", m.shipped), Tone::Normal));
    v.push((row("On hand", m.on_hand), Tone::Normal));
    v.push((row("Adjusted (net)", m.adjusted), Tone::Normal));
    v.push((row("Accounted for", m.accounted()), Tone::Strong));
    v.push((
        row("Gap", m.gap()),
        if m.gap() == Qty::ZERO {
            Tone::Normal
        } else {
            Tone::Warn
        },
    ));
    v.push((
        format!(
            "{} {}",
            draw::pad("Reconciliation", 20),
            draw::rpad(&m.reconciliation_text(), 14)
        ),
        if m.reconciliation_bp() == Some(10_000) {
            Tone::Strong
        } else {
            Tone::Warn
        },
    ));
    v.push((String::new(), Tone::Normal));
    v.push(("Mock recall: the recall scope, forward".into(), Tone::Title));
    v.push((
        format!("{} {}", draw::pad("Elapsed", 20), elapsed_text(elapsed)),
        Tone::Normal,
    ));
    v.push((
        format!("{} {}", draw::pad("Direction", 20), RECALL_DIRECTION),
        Tone::Normal,
    ));
    if let Some(f) = found {
        v.push((
            format!(
                "{} {} ({} finished)",
                draw::pad("Lots reached", 20),
                f.lots,
                f.finished
            ),
            Tone::Normal,
        ));
        v.push((
            format!(
                "{} {} to {} customer{}",
                draw::pad("Shipments", 20),
                f.shipments,
                f.customers,
                if f.customers == 1 { "" } else { "s" }
            ),
            Tone::Normal,
        ));
        v.push((
            format!("{} {}", draw::pad("Lots with stock", 20), f.on_hand),
            Tone::Normal,
        ));
    }
    v
}

/// One CSV field, quoted when it must be. A field a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a CR: a name or reference typed by anyone)
/// gets a leading `'`, so it is shown as the text it is.
fn csv(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `link_quantity` is how much of the input lot went into the output (in the input lot's
/// unit, `link_unit`).
pub const CSV_HEADER: &str = "level,node,lot,item,description,quantity,unit,parent_lot,link_quantity,link_unit,party,party_name,supplier_lot,date,reference,status,on_hand";

/// The tree's rows as CSV, one per lot and shipment (sections are left out); `made_by`
/// gives each lot's creating event for its reference document. Returns the text and the
/// number of data rows.
pub fn csv_rows(ctx: &Ctx, rows: &[Row], made_by: &HashMap<u64, Event>) -> (String, usize) {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    let mut n = 0;
    for r in rows {
        let (node, id, parent, link) = match r.kind {
            NodeKind::Section { .. } => continue,
            NodeKind::Root => ("root", ctx.graph.root, None, None),
            NodeKind::Lot {
                fwd,
                id,
                parent,
                qty,
            } => (
                if fwd { "output" } else { "input" },
                id,
                Some(parent),
                Some(qty),
            ),
            NodeKind::Ref {
                id, parent, qty, ..
            } => ("reference", id, Some(parent), Some(qty)),
            NodeKind::Ship(i) => {
                let Some(s) = ctx.graph.shipments.get(i) else {
                    continue;
                };
                let (item, desc) = ctx
                    .lot(s.lot)
                    .map(|l| (l.item.to_string(), ctx.item_name(&l.item).to_string()))
                    .unwrap_or_default();
                let f = [
                    r.depth.to_string(),
                    "shipment".into(),
                    ctx.code(s.lot),
                    item,
                    desc,
                    s.qty.to_string(),
                    s.unit.to_string(),
                    ctx.code(s.lot),
                    String::new(),
                    String::new(),
                    s.customer.to_string(),
                    ctx.party_name(&s.customer).to_string(),
                    String::new(),
                    s.date.to_string(),
                    s.reference
                        .as_ref()
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                    String::new(),
                    String::new(),
                ];
                out.push_str(&f.iter().map(|x| csv(x)).collect::<Vec<_>>().join(","));
                out.push('\n');
                n += 1;
                continue;
            }
        };
        let Some(l) = ctx.lot(id) else {
            continue;
        };
        // The link's quantity is of the input lot: this lot backward, the parent forward.
        let link_unit = match (r.kind, parent) {
            (NodeKind::Lot { fwd: true, .. } | NodeKind::Ref { fwd: true, .. }, Some(p)) => {
                ctx.lot(p).map(|p| p.unit.to_string()).unwrap_or_default()
            }
            (_, Some(_)) => l.unit.to_string(),
            (_, None) => String::new(),
        };
        let (party, party_name, slot) = match &l.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => (
                supplier.to_string(),
                ctx.party_name(supplier).to_string(),
                supplier_lot.to_string(),
            ),
            Origin::Produced { .. } => (String::new(), String::new(), String::new()),
            Origin::Returned { customer, .. } => (
                customer.to_string(),
                ctx.party_name(customer).to_string(),
                String::new(),
            ),
            Origin::Partner { source, .. } => (
                String::new(),
                format!("known only from {source}"),
                String::new(),
            ),
        };
        let f = [
            r.depth.to_string(),
            node.into(),
            l.code.to_string(),
            l.item.to_string(),
            ctx.item_name(&l.item).to_string(),
            l.quantity.to_string(),
            l.unit.to_string(),
            parent.map(|p| ctx.code(p)).unwrap_or_default(),
            link.map(|q| q.to_string()).unwrap_or_default(),
            link_unit,
            party,
            party_name,
            slot,
            l.date.to_string(),
            made_by
                .get(&l.event)
                .and_then(|e| e.reference.as_ref())
                .map(|r| r.to_string())
                .unwrap_or_default(),
            l.status.to_string(),
            l.balance.to_string(),
        ];
        out.push_str(&f.iter().map(|x| csv(x)).collect::<Vec<_>>().join(","));
        out.push('\n');
        n += 1;
    }
    (out, n)
}

/// The text file: what was traced, when, by whom, the whole tree, and the recall scope and
/// mass balance when they were looked at.
pub struct Report<'a> {
    pub ctx: &'a Ctx<'a>,
    pub rows: &'a [Row],
    pub plant: &'a str,
    pub by: &'a str,
    pub date: chrono::NaiveDate,
    pub elapsed: Duration,
    pub scope: Option<&'a RecallScope>,
    pub balance: Option<&'a MassBalance>,
}

impl Report<'_> {
    pub fn text(&self) -> String {
        let ctx = self.ctx;
        let g = &crate::tree::UNICODE;
        let mut out = String::new();
        let mut line = |s: &str| {
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(&format!("Trace export, {}", self.plant));
        if let Some(l) = ctx.lot(ctx.graph.root) {
            line(&format!(
                "Root: {} {} {}{}{} {} {} {}, on hand {} {}, {}",
                l.code,
                l.item,
                ctx.item_name(&l.item),
                ctx.dot,
                l.quantity,
                l.unit,
                l.origin.as_str(),
                l.date,
                l.balance,
                l.unit,
                l.status
            ));
        }
        line(&format!("Direction: {}", ctx.graph.direction));
        line(&format!(
            "Exported {} by {}; elapsed {}",
            self.date,
            self.by,
            elapsed_text(self.elapsed)
        ));
        let customers: std::collections::HashSet<&PartyId> =
            ctx.graph.shipments.iter().map(|s| &s.customer).collect();
        line(&format!(
            "{}, {} to {}",
            plural(ctx.graph.lots.len(), "lot reached", "lots reached"),
            plural(ctx.graph.shipments.len(), "shipment", "shipments"),
            plural(customers.len(), "customer", "customers")
        ));
        line("");
        for l in ctx.tree_lines(self.rows, g) {
            line(&l);
        }
        if let Some(s) = self.scope {
            line("");
            for (t, _) in scope_lines(ctx, s) {
                line(&t);
            }
        }
        if let Some(m) = self.balance {
            line("");
            let found = self.scope.map(Found::of);
            for (t, _) in balance_lines(ctx, m, found, self.elapsed) {
                line(&t);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_reads_as_a_stopwatch() {
        assert_eq!(elapsed_text(Duration::from_secs(41)), "0:41");
        assert_eq!(elapsed_text(Duration::from_secs(725)), "12:05");
        assert_eq!(elapsed_text(Duration::from_secs(3725)), "1:02:05");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("Corner Market, #12"), "\"Corner Market, #12\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn csv_fields_a_spreadsheet_would_run_are_made_text() {
        assert_eq!(csv("=1+1"), "'=1+1");
        assert_eq!(csv("+1"), "'+1");
        assert_eq!(csv("-2+3"), "'-2+3");
        assert_eq!(csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv("\t=1"), "'\t=1");
        assert_eq!(csv("\r=1"), "\"'\r=1\"");
        assert_eq!(csv("=A1,B1"), "\"'=A1,B1\"");
        assert_eq!(csv("a=1"), "a=1");
        assert_eq!(csv("2026-11-18"), "2026-11-18");
    }
}
