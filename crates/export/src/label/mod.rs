//! Our lot labels as ZPL for Zebra printers, and where to send them.
//!
//! A label carries the plant, the item, our lot code, its dates and a barcode: GS1-128
//! when the item has a GTIN, else Code 128 of the lot code. Either way a scan of it finds
//! the lot, whatever reads it: the barcode is written symbol by symbol (`code128`), the
//! variable-length lot code (10) last after the fixed-length element strings, so no
//! separator depends on the printer; its human-readable line is a text field of its own.
//! The layout follows the plant's label size; names are set smaller or wrapped to fit,
//! and cut with a mark only when two lines cannot hold them (`fit`).

mod code128;
mod fit;
mod printer;
#[cfg(test)]
mod scan_back;
#[cfg(test)]
mod tests;

pub use fit::CUT;
pub use printer::{Printer, SEND_TIMEOUT, send_timeout, send_timeout_from};

use code128::Part;
use lotline_domain::{Item, LabelSize, Lot, Origin, Plant, Unit};
use unicode_width::UnicodeWidthStr;

/// ZPL field data may not contain `^` or `~` (command prefixes) raw; `^FH` lets us write
/// them (and `_`, the escape itself) as `_XX`. The label is in UTF-8 (`^CI28`), so names in
/// any language go to the printer as they are ("Crème fraîche", "豆腐"); control,
/// bidi-override and zero-width characters, which a printer would act on or draw as
/// nothing, are printed as `?`.
fn field(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean(text).chars() {
        match c {
            '^' | '~' | '_' => out.push_str(&format!("_{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Text as the label shows it: control, bidi-override and zero-width characters as `?`.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || lotline_domain::text::is_unsafe(c) {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// One GS1 element string on a label: its Application Identifier and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub ai: String,
    pub value: String,
}

impl Element {
    fn new(ai: impl Into<String>, value: impl Into<String>) -> Element {
        Element {
            ai: ai.into(),
            value: value.into(),
        }
    }

    /// Of the AIs a label carries only (10) is variable-length; the rest need no separator.
    fn variable(&self) -> bool {
        self.ai == "10"
    }

    /// What it is, for a note on the preview (only those a label may leave out).
    fn title(&self) -> &'static str {
        match self.ai.as_str() {
            "17" => "expiry date",
            "11" => "production date",
            ai if ai.starts_with("310") => "net weight in kg",
            ai if ai.starts_with("320") => "net weight in lb",
            _ => "element string",
        }
    }
}

/// The element strings of a lot's GS1-128, in barcode order: (01) GTIN; the fixed-length
/// ones — (17) expiry, (11) production date of a lot we made, (310n) / (320n) net weight of
/// a variable-measure item (GTIN starting with 9) kept in kg, g or lb; then our lot code
/// (10), variable-length, last. `None` without a GTIN, or when the lot code is longer than
/// (10)'s 20 characters: such a label carries Code 128 of the lot code.
pub fn gs1_elements(item: &Item, lot: &Lot) -> Option<Vec<Element>> {
    let gtin = item.gtin.as_ref()?;
    if lot.code.as_str().len() > 20 {
        return None;
    }
    let mut out = vec![Element::new("01", gtin.as_str())];
    if let Some(e) = lot.expiry {
        out.push(Element::new("17", e.format("%y%m%d").to_string()));
    }
    if let Origin::Produced { .. } = lot.origin {
        out.push(Element::new("11", lot.date.format("%y%m%d").to_string()));
    }
    if gtin.as_str().starts_with('9')
        && let Some(w) = net_weight(lot)
    {
        out.push(w);
    }
    out.push(Element::new("10", lot.code.as_str()));
    Some(out)
}

/// (310n) in kg or (320n) in lb: six digits with n decimals, the fewest that hold the
/// quantity exactly. `None` for other units, or a quantity six digits cannot hold.
fn net_weight(lot: &Lot) -> Option<Element> {
    // The quantity as an integer and its decimal places: thousandths, of a kg for g.
    let (family, mantissa, places) = match lot.unit {
        Unit::Kg => ("310", lot.quantity.milli(), 3u32),
        Unit::G => ("310", lot.quantity.milli(), 6),
        Unit::Lb => ("320", lot.quantity.milli(), 3),
        _ => return None,
    };
    if mantissa <= 0 {
        return None;
    }
    (0..=5u32).find_map(|n| {
        let scaled = i128::from(mantissa) * 10i128.pow(n);
        let divisor = 10i128.pow(places);
        (scaled % divisor == 0 && scaled / divisor < 1_000_000)
            .then(|| Element::new(format!("{family}{n}"), format!("{:06}", scaled / divisor)))
    })
}

/// The element strings as the human-readable line prints them: `(01)…(17)…(10)…`.
fn hri(elements: &[Element]) -> String {
    elements
        .iter()
        .map(|e| format!("({}){}", e.ai, e.value))
        .collect()
}

/// Sizes in dots for one label stock; designed at 203 dpi and scaled to the printer's.
struct Geometry {
    size: LabelSize,
    width: u32,
    height: u32,
    margin: u32,
    plant: u32,
    item: u32,
    lot: u32,
    body: u32,
    hri: u32,
    bar: u32,
    /// Narrowest bar, in dots: the smallest that scans reliably (0.25 mm), and the
    /// largest worth printing.
    min_module: u32,
    max_module: u32,
    /// A case or pallet label (6 in tall): room for a second barcode of what the first
    /// cannot hold, its bars this tall.
    second_bar: Option<u32>,
}

fn geometry(size: LabelSize) -> Geometry {
    let (width, height) = size.dots();
    let s = |d: u32| (d * size.dpi()).div_ceil(203);
    let min_module = if size.dpi() >= 300 { 3 } else { 2 };
    let tall = size.inches().1 >= 6;
    let g = |margin, plant, item, lot, body, hri, bar, max_module| Geometry {
        size,
        width,
        height,
        margin: s(margin),
        plant: s(plant),
        item: s(item),
        lot: s(lot),
        body: s(body),
        hri: s(hri),
        bar: s(bar),
        min_module,
        max_module: s(max_module),
        second_bar: None,
    };
    if tall {
        // A case or pallet label, read from further away: larger type and taller bars.
        Geometry {
            second_bar: Some(s(200)),
            ..g(30, 48, 72, 120, 44, 34, 300, 4)
        }
    } else {
        g(20, 26, 34, 48, 24, 20, 96, 3)
    }
}

/// What a line of text is, which sets its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plant,
    Item,
    Lot,
    Body,
}

/// One line of the label's text.
struct Line {
    /// What it is, for a note when it had to be cut.
    what: &'static str,
    text: String,
    style: Style,
    max_lines: usize,
}

/// The label's text, top to bottom. A line every label should carry is one more entry
/// here; the layout sets it to fit and the barcode stays below.
fn lines(plant: &Plant, item: &Item, lot: &Lot, contains: Option<&str>) -> Vec<Line> {
    let line = |what, text: String, style, max_lines| Line {
        what,
        text,
        style,
        max_lines,
    };
    let made = match &lot.origin {
        Origin::Received {
            supplier,
            supplier_lot,
        } => format!("Rcvd {}  from {} lot {}", lot.date, supplier, supplier_lot),
        Origin::Produced { .. } => format!("Made {}", lot.date),
        Origin::Returned { customer, .. } => format!("Returned {}  by {}", lot.date, customer),
        Origin::Partner { source, .. } => format!("Known only from {source}"),
    };
    let exp = lot
        .expiry
        .map(|d| format!("Use by {d}  "))
        .unwrap_or_default();
    vec![
        line(
            "plant name",
            plant.location.business_name.clone(),
            Style::Plant,
            2,
        ),
        line(
            "item",
            format!("{}  {}", item.code, item.description.name),
            Style::Item,
            2,
        ),
        line("lot code", format!("LOT {}", lot.code), Style::Lot, 2),
        line("origin", made, Style::Body, 2),
        line(
            "dates and quantity",
            format!("{exp}Qty {} {}", lot.quantity, lot.unit),
            Style::Body,
            1,
        ),
    ]
    .into_iter()
    .chain(contains.map(|c| line("allergen line", c.to_string(), Style::Body, 2)))
    .collect()
}

/// A text field or the barcode, placed in dots from the label's top left.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Text {
        x: u32,
        y: u32,
        h: u32,
        text: String,
    },
    Barcode {
        x: u32,
        y: u32,
        module: u32,
        height: u32,
        field_data: String,
    },
}

/// A label laid out for the plant's stock: what `zpl` prints and `preview` shows.
pub struct Layout {
    size: LabelSize,
    blocks: Vec<Block>,
    /// The barcodes' kind ("GS1-128", "Code 128") and the first one's text.
    symbology: &'static str,
    hri: String,
    /// A case label's second barcode's text: the element strings the first could not hold.
    second_hri: Option<String>,
    /// What the label could not hold as asked: cut text, elements left out of the barcode.
    notes: Vec<String>,
}

/// The barcode chosen for a label: the most element strings that fit the stock's width at
/// a bar width that scans, the rest left to a second barcode (a case label) or the text.
struct Barcode {
    symbol: code128::Symbol,
    module: u32,
    symbology: &'static str,
    hri: String,
    left_out: Vec<Element>,
}

/// GS1-128 of `elements`: FNC1 first, and after each variable-length one but the last.
fn gs1_symbol(elements: &[Element]) -> code128::Symbol {
    let strings: Vec<String> = elements
        .iter()
        .map(|e| format!("{}{}", e.ai, e.value))
        .collect();
    let mut parts = vec![Part::Fnc1];
    for (i, (e, s)) in elements.iter().zip(&strings).enumerate() {
        parts.push(Part::Text(s));
        if e.variable() && i + 1 < elements.len() {
            parts.push(Part::Fnc1);
        }
    }
    code128::encode(&parts).expect("element strings are digits and lot-code characters")
}

/// A case label's second barcode: its symbol, bar width and height in dots, and text.
struct Second {
    symbol: code128::Symbol,
    module: u32,
    height: u32,
    hri: String,
}

/// The second barcode of a case label: the element strings the first could not hold, in
/// the order of [`gs1_elements`] (expiry, production date, weight). They are fixed-length
/// digits, a few dozen modules, so it fits where the first did not.
fn second_barcode(left_out: &[Element], g: &Geometry) -> Option<Second> {
    let height = g.second_bar?;
    if left_out.is_empty() {
        return None;
    }
    let mut elements = left_out.to_vec();
    elements.sort_by_key(|e| match e.ai.as_str() {
        "17" => 0,
        "11" => 1,
        _ => 2,
    });
    let symbol = gs1_symbol(&elements);
    let module = module_for(symbol.modules, g.width, g.min_module, g.max_module)?;
    Some(Second {
        symbol,
        module,
        height,
        hri: hri(&elements),
    })
}

/// The widest bar at which `modules` fit `width` dots with their quiet zones (ten modules
/// each side), from `max` down to `min`.
fn module_for(modules: u32, width: u32, min: u32, max: u32) -> Option<u32> {
    (min..=max).rev().find(|m| (modules + 20) * m <= width)
}

/// The bar width for a symbol too wide for the stock at a bar that scans well: the widest
/// that fits, one dot at least.
fn narrowest(symbol: &code128::Symbol, g: &Geometry) -> u32 {
    module_for(symbol.modules, g.width, 1, g.max_module).unwrap_or(1)
}

fn barcode(item: &Item, lot: &Lot, g: &Geometry) -> Barcode {
    if let Some(all) = gs1_elements(item, lot) {
        // Left out first when the width is short: the production date, the weight, the
        // expiry. (01) and (10) always stay: they are what finds the lot.
        let order = ["11", "310", "320", "17"];
        let mut left_out: Vec<Element> = Vec::new();
        let mut kept = all;
        loop {
            let symbol = gs1_symbol(&kept);
            let fits = module_for(symbol.modules, g.width, g.min_module, g.max_module);
            let next = order
                .iter()
                .find_map(|p| kept.iter().position(|e| e.ai.starts_with(p)));
            match (fits, next) {
                (None, Some(i)) => left_out.push(kept.remove(i)),
                _ => {
                    // Nothing more to leave out: bars narrower than scan well beat none.
                    let module = fits.unwrap_or_else(|| narrowest(&symbol, g));
                    return Barcode {
                        symbol,
                        module,
                        symbology: "GS1-128",
                        hri: hri(&kept),
                        left_out,
                    };
                }
            }
        }
    }
    let symbol = code128::encode(&[Part::Text(lot.code.as_str())])
        .expect("lot codes are letters, digits and - _ . /");
    let module = module_for(symbol.modules, g.width, g.min_module, g.max_module)
        .unwrap_or_else(|| narrowest(&symbol, g));
    Barcode {
        symbol,
        module,
        symbology: "Code 128",
        hri: lot.code.as_str().to_string(),
        left_out: Vec::new(),
    }
}

/// Lay out the label of `lot` for the plant's label size, with no allergen line.
pub fn layout(plant: &Plant, item: &Item, lot: &Lot) -> Layout {
    layout_with(plant, item, lot, None)
}

/// Lay out the label of `lot` for the plant's label size, with its allergen line (see
/// [`contains_line`]) last among the text.
pub fn layout_with(plant: &Plant, item: &Item, lot: &Lot, contains: Option<&str>) -> Layout {
    let g = geometry(plant.label_size);
    let room = g.width - 2 * g.margin;
    let code = barcode(item, lot, &g);
    let second = second_barcode(&code.left_out, &g);
    let mut notes = Vec::new();
    // Bottom up: the human-readable line, then the bars above it.
    // The barcode's text may be set down to half size: broken mid-element it reads badly.
    let hri_fit = fit::fit(&code.hri, room, g.hri, g.hri / 2, 2);
    let lead = |h: u32| h + h.div_ceil(6);
    let hri_y = g.height - g.margin / 2 - hri_fit.lines.len() as u32 * lead(hri_fit.height);
    let bar_y = hri_y - g.margin / 4 - g.bar;
    let bar_w = code.symbol.modules * code.module;
    let bar_x = (g.width.saturating_sub(bar_w)) / 2;
    let hri_blocks = hri_fit.lines.iter().enumerate().map(|(i, l)| Block::Text {
        x: g.margin,
        y: hri_y + i as u32 * lead(hri_fit.height),
        h: hri_fit.height,
        text: l.clone(),
    });
    // A case label's second barcode, above the first with its own human-readable line:
    // what the first could not hold still scans, at a customer's dock too.
    let mut second_blocks = Vec::new();
    let mut codes_top = bar_y;
    if let Some(s) = &second {
        let f = fit::fit(&s.hri, room, g.hri, g.hri / 2, 1);
        let hri_y = bar_y.saturating_sub(g.margin / 2 + f.lines.len() as u32 * lead(f.height));
        let y = hri_y.saturating_sub(g.margin / 4 + s.height);
        second_blocks.push(Block::Barcode {
            x: g.width.saturating_sub(s.symbol.modules * s.module) / 2,
            y,
            module: s.module,
            height: s.height,
            field_data: s.symbol.field_data.clone(),
        });
        second_blocks.extend(f.lines.iter().enumerate().map(|(i, l)| Block::Text {
            x: g.margin,
            y: hri_y + i as u32 * lead(f.height),
            h: f.height,
            text: l.clone(),
        }));
        codes_top = y;
    }
    // Top down: the text, set smaller all together until it clears the barcodes.
    let text_bottom = codes_top.saturating_sub(g.margin / 2);
    let mut scale = 100;
    let (text_blocks, cut) = loop {
        let mut y = g.margin;
        let mut blocks = Vec::new();
        let mut cut = Vec::new();
        for line in lines(plant, item, lot, contains) {
            let h = match line.style {
                Style::Plant => g.plant,
                Style::Item => g.item,
                Style::Lot => g.lot,
                Style::Body => g.body,
            } * scale
                / 100;
            // Names are set down to four fifths before they wrap. The lot code, one word
            // and what people read off the label, is never cut: it is set as small as it
            // must be (a fifth: 40 characters on one line of a 4 in label), on one line
            // when it can.
            let min = match line.style {
                Style::Lot => h / 5,
                _ => (h * 4).div_ceil(5),
            };
            let f = fit::fit(&clean(&line.text), room, h, min, line.max_lines);
            if f.cut {
                cut.push(line.what);
            }
            for l in f.lines {
                blocks.push(Block::Text {
                    x: g.margin,
                    y,
                    h: f.height,
                    text: l,
                });
                y += lead(f.height);
            }
        }
        if y <= text_bottom || scale <= 60 {
            break (blocks, cut);
        }
        scale -= 10;
    };
    for what in cut {
        notes.push(format!(
            "the {what} did not fit on two lines and is cut (marked {CUT})"
        ));
    }
    let mm = |dots: u32| f64::from(dots) * 25.4 / f64::from(g.size.dpi());
    // In a case label's second barcode nothing is left out.
    if second.is_none() {
        for e in &code.left_out {
            notes.push(format!(
                "({}) {} is left out of the barcode: it does not fit the label's width at {:.2} mm bars; it is printed as text",
                e.ai,
                e.title(),
                mm(g.min_module)
            ));
        }
    }
    if code.module < g.min_module {
        notes.push(format!(
            "the barcode's bars are {:.2} mm, narrower than the {:.2} mm that scans reliably: a lot code this long needs a scanner held close",
            mm(code.module),
            mm(g.min_module)
        ));
    }
    let mut blocks = text_blocks;
    blocks.extend(second_blocks);
    blocks.push(Block::Barcode {
        x: bar_x,
        y: bar_y,
        module: code.module,
        height: g.bar,
        field_data: code.symbol.field_data,
    });
    blocks.extend(hri_blocks);
    Layout {
        size: g.size,
        blocks,
        symbology: code.symbology,
        hri: code.hri,
        second_hri: second.map(|s| s.hri),
        notes,
    }
}

impl Layout {
    /// The ZPL that prints it.
    pub fn zpl(&self) -> String {
        let (w, h) = self.size.dots();
        // ^CI28: field data is UTF-8. Accented Latin prints with the printer's built-in
        // scalable font; Chinese, Japanese and Korean need a Unicode font on the printer.
        let mut z = format!("^XA\n^CI28\n^PW{w}\n^LL{h}\n^LH0,0\n");
        for b in &self.blocks {
            match b {
                Block::Text { x, y, h, text } => {
                    z.push_str(&format!("^FO{x},{y}^A0N,{h},{h}^FH^FD{}^FS\n", field(text)))
                }
                // Mode N, no interpretation line: the field data is the symbol as written
                // (see `code128`), and the human-readable line is a text field below it.
                // Written raw: invocation codes and lot-code characters only, never ^ or ~,
                // and ^FH would turn an underscore into an escape.
                Block::Barcode {
                    x,
                    y,
                    module,
                    height,
                    field_data,
                } => z.push_str(&format!(
                    "^FO{x},{y}^BY{module}^BCN,{height},N,N,N,N^FD{field_data}^FS\n"
                )),
            }
        }
        z.push_str("^XZ\n");
        z
    }

    /// The label's lines top to bottom as printed, each barcode as a line saying what it is.
    pub fn rows(&self) -> Vec<String> {
        let mm = |module: u32| f64::from(module) * 25.4 / f64::from(self.size.dpi());
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Text { text, .. } => text.clone(),
                Block::Barcode { module, .. } => {
                    format!("||| {} barcode, {:.2} mm |||", self.symbology, mm(*module))
                }
            })
            .collect()
    }

    /// The label stock it is laid out for.
    pub fn size(&self) -> LabelSize {
        self.size
    }

    /// The label as text, line for line as printed, for a look before printing.
    pub fn preview(&self) -> String {
        let (w, h) = self.size.dots();
        let rows = self.rows();
        let inner = rows.iter().map(|r| r.width()).max().unwrap_or(0);
        let rule = format!("+{}+\n", "-".repeat(inner + 2));
        let mut out = format!("{} ({w} x {h} dots)\n{rule}", self.size);
        for r in &rows {
            out.push_str(&format!("| {r}{} |\n", " ".repeat(inner - r.width())));
        }
        out.push_str(&rule);
        for n in &self.notes {
            out.push_str(&format!("Note: {n}\n"));
        }
        out
    }

    /// The barcode's human-readable text, as printed under it.
    pub fn barcode_text(&self) -> &str {
        &self.hri
    }

    /// A case label's second barcode's text, when the first could not hold every element
    /// string: `(17)…(11)…`.
    pub fn second_barcode_text(&self) -> Option<&str> {
        self.second_hri.as_deref()
    }

    /// What the label could not hold as asked (cut text, element strings left out).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// The ZPL for one lot label, on the plant's label size, with no allergen line.
pub fn zpl(plant: &Plant, item: &Item, lot: &Lot) -> String {
    layout(plant, item, lot).zpl()
}

/// The ZPL for one lot label with its allergen line (see [`contains_line`]).
pub fn zpl_with(plant: &Plant, item: &Item, lot: &Lot, contains: Option<&str>) -> String {
    layout_with(plant, item, lot, contains).zpl()
}

/// The allergen line of a lot's label, from the lot's own set (what its inputs carried,
/// not only what the item card declares): "Contains: Wheat, Egg, Milk"; `None` for a lot
/// carrying none. `label` is the set as `AllergenList::label` writes it.
pub fn contains_line(label: &str) -> Option<String> {
    let label = label.trim();
    (!label.is_empty()).then(|| format!("Contains: {label}"))
}

/// The label of lot `code` as the station has it (the lot, its item, the plant, and the
/// lot's own allergens), laid out.
pub fn lot_layout<S: lotline_station::Station + ?Sized>(
    st: &S,
    code: &lotline_domain::LotCode,
) -> Result<Layout, lotline_station::StationError> {
    use lotline_station::StationExt;
    let lot = st.lot(code.clone())?;
    let item = st.item(lot.item.clone())?;
    let contains = contains_line(&st.lot_allergens(code.clone())?.label);
    Ok(layout_with(&st.plant()?, &item, &lot, contains.as_deref()))
}

/// The ZPL of lot `code`'s label as the station has it (see [`lot_layout`]).
pub fn lot_zpl<S: lotline_station::Station + ?Sized>(
    st: &S,
    code: &lotline_domain::LotCode,
) -> Result<String, lotline_station::StationError> {
    lot_layout(st, code).map(|l| l.zpl())
}

/// The label as text (see [`Layout::preview`]).
pub fn preview(plant: &Plant, item: &Item, lot: &Lot) -> String {
    layout(plant, item, lot).preview()
}
