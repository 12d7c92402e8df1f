//! The app shell: routes inputs through the keymap to screen actions, drains the queue of
//! internal events, and draws the header (tabs, plant, operator, clock), the body, the
//! footer of key hints and the status line.

use super::config::{PrinterSetting, ScannerSettings};
use super::draw::{self, put};
use super::input::Input;
use super::keymap::{Action, Key, Keymap, Layer, ScreenId};
use super::queue::{InternalEvent, Level, Outcome, Queue, Status};
use super::screens::help::{Help, HelpAction};
use super::screens::lots::{Lots, LotsAction};
use super::screens::master::{Master, MasterAction};
use super::screens::produce::{Produce, ProduceAction};
use super::screens::receive::{Receive, ReceiveAction};
use super::screens::ship::{Ship, ShipAction};
use super::screens::trace::{Trace, TraceAction};
use super::screens::{FormAction, Ui};
use super::theme::Theme;
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use lotline_station::{Link, Role, Station, StationExt};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode};
use ratatui::layout::{Position, Rect};

/// Smallest terminal the app draws in.
pub const MIN_W: u16 = 20;
pub const MIN_H: u16 = 10;
/// From this size up, the full layout; below it, the compact one.
pub const FULL_W: u16 = 80;
pub const FULL_H: u16 = 24;

pub struct App {
    pub screen: ScreenId,
    /// Where Help goes back to.
    back_to: ScreenId,
    pub receive: Receive,
    pub produce: Produce,
    pub ship: Ship,
    pub trace: Trace,
    pub lots: Lots,
    pub master: Master,
    pub help: Help,
    pub keymap: Keymap,
    pub theme: Theme,
    /// On a form screen: the cursor has left the fields for the menu (after Esc).
    pub menu: bool,
    /// The status line of the screen in front.
    pub status: Option<Status>,
    /// The status lines of the screens behind, each shown again when its screen comes
    /// back: "Saved R…" on Receive is not news on Ship.
    parked: std::collections::HashMap<ScreenId, Status>,
    /// Quit was asked for once while forms held input.
    quit_armed: bool,
    pub quit: bool,
    pub plant: String,
    /// The Unix user the station says this is.
    pub operator: String,
    /// The station's name as the server knows it (terminal, SSH client, or given).
    pub station_name: String,
    pub now: NaiveDateTime,
    queue: Queue,
    /// Ask the terminal to clear and draw everything again (after C-l).
    pub clear_screen: bool,
    /// How scans are read (the `[scanner]` settings).
    pub scanner: ScannerSettings,
    /// Where labels go, if a printer is set.
    pub printer: Option<PrinterSetting>,
    /// Labels on their way to the printer, off the input loop.
    pub labels: super::labels::Jobs,
    /// The export dialog (FDA spreadsheet, shipping KDEs) and the export running off the
    /// input loop.
    pub exports: super::exports::Exports,
    /// What this user may do here; keys for more are shown greyed.
    pub role: Role,
    /// On the server or alone, for the header.
    pub link: Link,
    /// The status line was cut when last drawn (its whole text is on Help).
    status_cut: std::cell::Cell<bool>,
    /// The terminal scrolls regions (the painter uses them, `paint.rs`): lists follow the
    /// selection a row at a time. Off by default (and in the tests' frames): they jump
    /// half a window, the cheaper way where every row must be written again.
    pub scroll_by_row: bool,
    /// The server dropped this app for not answering (its terminal was frozen): after so
    /// many seconds. Said again on reconnecting, since a terminal waking from a freeze may
    /// take both notices at once.
    dropped_after: Option<u64>,
    /// The forms' drafts kept at the station, and those offered back on return.
    pub drafts: super::drafts::Keeper,
}

impl App {
    /// The app on `station`. `now` is the wall clock with its offset from UTC: the header
    /// shows it, and stamps (a draft's time, "Last saved … at") are shown on that clock.
    pub fn new(
        keymap: Keymap,
        theme: Theme,
        now: DateTime<FixedOffset>,
        station: &dyn Station,
    ) -> App {
        let help = Help::new(&keymap);
        let mut app = App {
            screen: ScreenId::Receive,
            back_to: ScreenId::Receive,
            receive: Receive::new(),
            produce: Produce::new(),
            ship: Ship::new(),
            trace: Trace::new(),
            lots: Lots::new(),
            master: Master::new(),
            help,
            keymap,
            theme,
            menu: false,
            status: None,
            parked: Default::default(),
            quit_armed: false,
            quit: false,
            plant: String::new(),
            operator: String::new(),
            station_name: String::new(),
            now: now.naive_local(),
            queue: Queue::default(),
            clear_screen: false,
            scanner: ScannerSettings::default(),
            printer: None,
            labels: Default::default(),
            exports: Default::default(),
            role: Role::Operator,
            link: station.link(),
            status_cut: Default::default(),
            dropped_after: None,
            scroll_by_row: false,
            drafts: crate::drafts::Keeper::on_clock(*now.offset()),
        };
        match station.plant() {
            Ok(p) => app.plant = p.location.business_name,
            Err(e) => app.status = Some((&e).into()),
        }
        match station.whoami() {
            Ok(a) => {
                app.operator = a.operator;
                app.station_name = a.station;
                app.role = a.role;
            }
            Err(e) => app.status = Some((&e).into()),
        }
        if app.status.is_none() {
            app.take_resume(station);
        }
        let help_key = app.hint_key(Action::Screen(ScreenId::Help));
        if app.status.is_none() {
            app.status = Some(Status::info(format!(
                "Ready. {help_key} shows every key; Esc then a letter switches screens."
            )));
        }
        let outs = vec![
            app.receive.update(ReceiveAction::Refresh, station),
            app.produce.update(ProduceAction::Refresh, station),
            app.ship.update(ShipAction::Refresh, station),
            app.lots.update(LotsAction::Refresh, station),
            app.trace.update(TraceAction::Refresh, station),
            app.master.update(MasterAction::Refresh, station),
        ];
        for o in outs {
            // Only errors are worth showing at start.
            let errs: Vec<InternalEvent> = o
                .events
                .into_iter()
                .filter(|e| matches!(e, InternalEvent::Status(s) if s.level == Level::Error))
                .collect();
            app.process(
                Outcome {
                    changed: true,
                    events: errs,
                },
                station,
            );
        }
        app
    }

    /// Use these scanner settings and this label printer (Help shows them).
    pub fn with_devices(
        mut self,
        scanner: ScannerSettings,
        printer: Option<PrinterSetting>,
    ) -> App {
        self.help.devices(&scanner, printer.as_ref());
        self.scanner = scanner;
        self.printer = printer;
        self
    }

    /// The first key that reaches `action` from anywhere, for hints.
    fn hint_key(&self, action: Action) -> String {
        self.keymap
            .key_for(&[Layer::Global, Layer::Menu], action)
            .map(|k| k.label())
            .unwrap_or_default()
    }

    fn on_form_screen(&self) -> bool {
        matches!(
            self.screen,
            ScreenId::Receive | ScreenId::Produce | ScreenId::Ship
        )
    }

    /// Keys go into a text field.
    pub fn wants_text(&self) -> bool {
        if self.labels.preview.is_some() {
            return false;
        }
        if self.exports.shown() {
            return self.exports.wants_text();
        }
        match self.screen {
            ScreenId::Receive | ScreenId::Produce | ScreenId::Ship => !self.menu,
            ScreenId::Lots => self.lots.wants_text(),
            ScreenId::Trace => self.trace.wants_text(),
            ScreenId::Master => self.master.wants_text(),
            ScreenId::Help => false,
        }
    }

    /// The keymap layers consulted now, most specific first.
    pub fn layers(&self) -> Vec<Layer> {
        if self.exports.shown() || self.labels.preview.is_some() {
            return vec![Layer::Form, Layer::Global];
        }
        match self.screen {
            ScreenId::Receive | ScreenId::Produce | ScreenId::Ship if self.menu => {
                vec![Layer::Menu, Layer::Global]
            }
            ScreenId::Receive | ScreenId::Produce | ScreenId::Ship => {
                vec![Layer::Form, Layer::Global]
            }
            ScreenId::Lots if self.lots.wants_text() => vec![Layer::Form, Layer::Global],
            ScreenId::Lots => vec![Layer::Lots, Layer::Menu, Layer::Global],
            ScreenId::Trace if self.trace.wants_text() => vec![Layer::Form, Layer::Global],
            ScreenId::Trace => vec![Layer::Trace, Layer::Menu, Layer::Global],
            ScreenId::Master if self.master.wants_text() => vec![Layer::Form, Layer::Global],
            ScreenId::Master => vec![Layer::Master, Layer::Menu, Layer::Global],
            ScreenId::Help => vec![Layer::Help, Layer::Menu, Layer::Global],
        }
    }

    /// Forms holding input that has not been saved, by screen title.
    pub fn unsaved(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.receive.is_dirty() {
            v.push("Receive");
        }
        if self.produce.is_dirty() {
            v.push("Produce");
        }
        if self.ship.is_dirty() {
            v.push("Ship");
        }
        if self.lots.is_dirty() {
            v.push("Lots");
        }
        if self.trace.is_dirty() {
            v.push("Trace");
        }
        if self.master.is_dirty() {
            v.push("Items/Parties");
        }
        v
    }

    /// React to one input. Returns whether anything on screen may have changed.
    pub fn handle(&mut self, input: Input, station: &dyn Station) -> bool {
        if let Some(changed) = self.offer_key(&input, station) {
            return changed;
        }
        match input {
            Input::Resize => true,
            Input::Paste(text) => {
                if self.wants_text() {
                    let out = self.form(FormAction::Paste(text), station);
                    self.process(out, station)
                } else {
                    false
                }
            }
            Input::Scan(text) => {
                self.quit_armed = false;
                let out = super::scanning::route(self, &text, station);
                self.process(out, station)
            }
            Input::Key { key, event } => {
                let action = self.keymap.lookup(&self.layers(), key);
                if action != Some(Action::Quit) {
                    self.quit_armed = false;
                }
                if let Some(a) = action {
                    // A greyed key does nothing but say why: no dialog opens to be refused
                    // only after a reason was typed into it.
                    let out = if self.role < a.required_role() && !self.role_now(a, station) {
                        self.not_allowed(key, a)
                    } else {
                        self.run(a, station)
                    };
                    return self.process(out, station);
                }
                if self.wants_text() {
                    return match tui_input::backend::crossterm::to_input_request(&Event::Key(event))
                    {
                        Some(req) => {
                            let out = self.form(FormAction::Edit(req), station);
                            self.process(out, station)
                        }
                        None => false,
                    };
                }
                self.unbound(key)
            }
        }
    }

    /// Ask the station again whether this user may now do `a`: roles change while the app
    /// is open (QA given this morning), and the role known at start may have been a guess
    /// (the server was away). Keeps what it learns, so the footer follows.
    fn role_now(&mut self, a: Action, station: &dyn Station) -> bool {
        if let Ok(me) = station.whoami() {
            self.role = me.role;
            self.operator = me.operator;
        }
        self.role >= a.required_role()
    }

    /// A key this user's role may not use (greyed in the footer): why, and who may.
    fn not_allowed(&self, key: Key, a: Action) -> Outcome {
        let desc = self
            .layers()
            .into_iter()
            .find_map(|l| {
                self.keymap
                    .bindings(l)
                    .iter()
                    .find(|b| b.action == a)
                    .map(|b| b.desc.clone())
            })
            .unwrap_or_default();
        let what = if desc.is_empty() {
            key.label()
        } else {
            format!("{} ({desc})", key.label())
        };
        Outcome::changed().status(Status::error(format!(
            "{what} needs the {} role: {} is {} here; ask someone with that role, or the plant's admin (the roles file, or `lotline plant set --qa-users`)",
            a.required_role(),
            self.operator,
            super::screens::master::article(self.role),
        )))
    }

    /// A key that does nothing here: in the menu, say how to get back.
    fn unbound(&mut self, key: Key) -> bool {
        if self.menu && self.on_form_screen() && matches!(key.code, KeyCode::Char(_)) {
            let back = self
                .keymap
                .key_for(&[Layer::Menu], Action::Edit)
                .map(|k| k.label())
                .unwrap_or_default();
            self.status = Some(Status::info(format!(
                "Menu: {} is not a menu key; {back} goes back to the form",
                key.label()
            )));
            return true;
        }
        false
    }

    fn run(&mut self, a: Action, station: &dyn Station) -> Outcome {
        match a {
            Action::Screen(s) => {
                if s == ScreenId::Help && self.screen != ScreenId::Help {
                    self.link = station.link();
                    self.help
                        .stations(&self.link, self.role, station.stations(), self.drafts.tz);
                    // What was cut on the status line, or was more than a hint, is
                    // there in full.
                    let worth = |s: &&Status| s.level != Level::Info || self.status_cut.get();
                    self.help.message(
                        self.screen.title(),
                        self.status.as_ref().filter(worth).map(|s| s.text.as_str()),
                    );
                }
                self.switch(s)
            }
            Action::Quit => {
                let unsaved = self.unsaved();
                let exporting = self.exports.busy();
                if (unsaved.is_empty() && !exporting) || self.quit_armed {
                    // A running export stops before it writes; the app waits for it.
                    self.exports.stop();
                    self.quit = true;
                    return Outcome::changed();
                }
                self.quit_armed = true;
                let key = self.hint_key(Action::Quit);
                if exporting && unsaved.is_empty() {
                    return Outcome::changed().status(Status::warn(format!(
                        "An export is being written; press {key} again to stop it and quit"
                    )));
                }
                Outcome::changed().status(Status::warn(format!(
                    "Unsaved input on {}; press {key} again to quit anyway",
                    unsaved.join(", ")
                )))
            }
            Action::Redraw => {
                self.clear_screen = true;
                Outcome::changed()
            }
            _ if self.labels.preview.is_some() => super::labels::preview_action(self, a),
            _ if self.exports.shown() => super::exports::action(self, a, station),
            Action::FdaExport => super::exports::open_fda(self, station),
            Action::ShippingKdes => super::exports::open_kde(self),
            // On the mock recall view, the export is the record's paperwork.
            Action::Export
                if self.screen == ScreenId::Trace && self.trace.mock_on_screen().is_some() =>
            {
                match self.trace.mock_on_screen() {
                    Some(id) => super::exports::open_mock(self, id),
                    None => Outcome::none(),
                }
            }
            Action::PrintLabel => super::labels::print(self, station),
            Action::RecordReturn if self.screen == ScreenId::Ship => {
                self.menu = false;
                self.ship.update(ShipAction::ToggleReturn, station)
            }
            Action::RecordReturn => Outcome::none(),
            Action::Edit => match self.screen {
                ScreenId::Help => self.switch(self.back_to),
                ScreenId::Lots => self.lots.update(LotsAction::Search, station),
                ScreenId::Trace => self.trace.update(TraceAction::Start, station),
                _ => {
                    self.menu = false;
                    Outcome::changed()
                }
            },
            _ if self.screen == ScreenId::Help => {
                let h = match a {
                    Action::Up => HelpAction::Up,
                    Action::Down => HelpAction::Down,
                    Action::PageUp => HelpAction::PageUp,
                    Action::PageDown => HelpAction::PageDown,
                    Action::First => HelpAction::First,
                    Action::Last => HelpAction::Last,
                    Action::Back => return self.switch(self.back_to),
                    _ => return Outcome::none(),
                };
                self.help.update(h)
            }
            _ if self.screen == ScreenId::Lots && !self.lots.wants_text() => {
                let l = match a {
                    Action::Up => LotsAction::Up,
                    Action::Down => LotsAction::Down,
                    Action::PageUp => LotsAction::PageUp,
                    Action::PageDown => LotsAction::PageDown,
                    Action::First => LotsAction::First,
                    Action::Last => LotsAction::Last,
                    Action::Open => LotsAction::Open,
                    Action::Back => LotsAction::Back,
                    Action::Hold => LotsAction::Hold,
                    Action::Release => LotsAction::Release,
                    Action::Search => LotsAction::Search,
                    Action::Trace => LotsAction::Trace,
                    _ => return Outcome::none(),
                };
                self.lots.update(l, station)
            }
            _ if self.screen == ScreenId::Master && !self.master.wants_text() => {
                let m = match a {
                    Action::Up => MasterAction::Up,
                    Action::Down => MasterAction::Down,
                    Action::PageUp => MasterAction::PageUp,
                    Action::PageDown => MasterAction::PageDown,
                    Action::First => MasterAction::First,
                    Action::Last => MasterAction::Last,
                    Action::Open => MasterAction::Open,
                    Action::Back => MasterAction::Back,
                    Action::Add => MasterAction::Add,
                    Action::Change => MasterAction::Change,
                    Action::Retire => MasterAction::Retire,
                    Action::OtherList => MasterAction::OtherList,
                    Action::Recipe => MasterAction::Recipe,
                    Action::ScrollDown => MasterAction::ScrollDown,
                    Action::ScrollUp => MasterAction::ScrollUp,
                    _ => return Outcome::none(),
                };
                self.master.update(m, station)
            }
            _ if self.screen == ScreenId::Trace && !self.trace.wants_text() => {
                match TraceAction::from_key(a) {
                    Some(t) => self.trace.update(t, station),
                    None => Outcome::none(),
                }
            }
            other => match FormAction::from_action(other) {
                Some(fa) => self.form(fa, station),
                None => Outcome::none(),
            },
        }
    }

    fn switch(&mut self, s: ScreenId) -> Outcome {
        if s == ScreenId::Help && self.screen != ScreenId::Help {
            self.back_to = self.screen;
        }
        self.bring_up(s);
        self.menu = false;
        Outcome::changed()
    }

    /// Put screen `s` in front, with its own status line.
    fn bring_up(&mut self, s: ScreenId) {
        if s == self.screen {
            return;
        }
        if let Some(st) = self.status.take() {
            self.parked.insert(self.screen, st);
        }
        self.status = self.parked.remove(&s);
        self.screen = s;
    }

    /// A form action for the screen in front.
    pub(super) fn form(&mut self, fa: FormAction, station: &dyn Station) -> Outcome {
        if self.exports.shown() {
            return super::exports::form_action(self, fa, station);
        }
        match self.screen {
            ScreenId::Receive => self.receive.update(ReceiveAction::Form(fa), station),
            ScreenId::Produce => self.produce.update(ProduceAction::Form(fa), station),
            ScreenId::Ship => self.ship.update(ShipAction::Form(fa), station),
            ScreenId::Lots => self.lots.update(LotsAction::Form(fa), station),
            ScreenId::Trace => self.trace.update(TraceAction::Form(fa), station),
            ScreenId::Master => self.master.update(MasterAction::Form(fa), station),
            ScreenId::Help => Outcome::none(),
        }
    }

    /// Queue an outcome's events and route them until the queue is empty.
    pub(crate) fn process(&mut self, out: Outcome, station: &dyn Station) -> bool {
        let mut changed = out.changed;
        self.queue.extend(out.events);
        while let Some(e) = self.queue.pop() {
            changed = true;
            match e {
                InternalEvent::Status(s) => self.status = Some(s),
                InternalEvent::LotsChanged => {
                    let a = self.ship.update(ShipAction::LotsChanged, station);
                    let b = self.lots.update(LotsAction::LotsChanged, station);
                    let c = self.trace.update(TraceAction::LotsChanged, station);
                    // Another station may have changed items or parties too (the server's
                    // notice does not say what changed): the Items/Parties lists follow.
                    let d = self.master.update(MasterAction::Refresh, station);
                    // Only their errors matter here; a refresh is not news.
                    for o in [a, b, c, d] {
                        self.queue.extend(o.events.into_iter().filter(
                            |e| matches!(e, InternalEvent::Status(s) if s.level == Level::Error),
                        ));
                    }
                    // The open batch's lots: a lot held under it is news (it speaks only
                    // then), wherever the user is.
                    let p = self.produce.update(ProduceAction::LotsChanged, station);
                    self.queue.extend(p.events);
                }
                InternalEvent::OpenLot(code) => {
                    self.bring_up(ScreenId::Lots);
                    let o = self.lots.update(LotsAction::Show(code), station);
                    self.queue.extend(o.events);
                }
                InternalEvent::OpenTrace(code) => {
                    self.bring_up(ScreenId::Trace);
                    self.menu = false;
                    let o = self.trace.update(TraceAction::Open(code), station);
                    self.queue.extend(o.events);
                }
                InternalEvent::PickTrace {
                    supplier_lot,
                    item,
                    lots,
                } => {
                    self.bring_up(ScreenId::Trace);
                    self.menu = false;
                    let o = self.trace.update(
                        TraceAction::Pick {
                            supplier_lot,
                            item,
                            lots,
                        },
                        station,
                    );
                    self.queue.extend(o.events);
                }
                InternalEvent::Switch(s) => {
                    let o = self.switch(s);
                    self.queue.extend(o.events);
                }
                InternalEvent::MasterChanged => {
                    // New or changed items and parties: every pick list built from them.
                    let outs = [
                        self.receive.update(ReceiveAction::Refresh, station),
                        self.produce.update(ProduceAction::Refresh, station),
                        self.ship.update(ShipAction::Refresh, station),
                        self.lots.update(LotsAction::Refresh, station),
                        self.trace.update(TraceAction::Refresh, station),
                    ];
                    for o in outs {
                        self.queue.extend(o.events.into_iter().filter(
                            |e| matches!(e, InternalEvent::Status(s) if s.level == Level::Error),
                        ));
                    }
                }
                InternalEvent::Menu => {
                    if self.on_form_screen() {
                        self.menu = true;
                    }
                }
            }
        }
        changed
    }

    /// The clock moved on; redraw when the minute shown changes. After midnight the
    /// forms' default dates move to the new day (a date someone typed is left alone).
    pub fn tick(&mut self, now: NaiveDateTime, station: &dyn Station) -> bool {
        let shown = |t: &NaiveDateTime| t.format("%Y-%m-%d %H:%M").to_string();
        let changed = shown(&now) != shown(&self.now);
        let new_day = now.date() != self.now.date();
        self.now = now;
        if new_day {
            let outs = [
                self.receive.update(ReceiveAction::Refresh, station),
                self.produce.update(ProduceAction::Refresh, station),
                self.ship.update(ShipAction::Refresh, station),
            ];
            for o in outs {
                self.process(o, station);
            }
        }
        changed
    }

    /// A notice pushed by the server: another station changed lots (lists, details and
    /// traces on screen refresh), or the connection was lost or is back. Whether the
    /// screen changed.
    pub fn notice(&mut self, n: lotline_station::Notice, station: &dyn Station) -> bool {
        use lotline_station::Notice;
        self.link = station.link();
        let out = match n {
            Notice::Changed { .. } => Outcome::none().with(InternalEvent::LotsChanged),
            Notice::Lost => Outcome::changed().status(Status::warn(
                "The server stopped; reconnecting. What you typed is kept; save again once it is back.",
            )),
            Notice::Dropped { silent_secs } => {
                self.dropped_after = Some(silent_secs);
                Outcome::changed().status(Status::warn(format!(
                    "The server dropped this station after {silent_secs} s without an answer; reconnecting… What you typed is kept."
                )))
            }
            Notice::Back => {
                // Roles may have changed while the server was away: keys grey as they now are.
                if let Ok(a) = station.whoami() {
                    self.role = a.role;
                }
                let said = match self.dropped_after.take() {
                    Some(secs) => format!(
                        "Reconnected; the server had dropped this station after {secs} s without an answer."
                    ),
                    None => "Reconnected to the server.".into(),
                };
                Outcome::changed()
                    .status(Status::ok(said))
                    .with(InternalEvent::LotsChanged)
            }
            Notice::Stopping => Outcome::changed().status(Status::warn(
                "The server is stopping; it will be reconnected to when it is back.",
            )),
            // The server answered, but will not take this app: say its words (what to do)
            // rather than "reconnecting" for ever; typed forms stay as they are.
            Notice::Refused { message, retrying } => {
                let then = if retrying {
                    "Still trying; what you typed is kept."
                } else {
                    "Not reconnecting; what you typed is kept (quit and start lotline again once that is done)."
                };
                Outcome::changed().status(Status::error(format!(
                    "The server refused this app: {message}. {then}"
                )))
            }
        };
        self.process(out, station)
    }

    /// Take in the results of work done off the input loop (labels being printed, exports,
    /// the FDA form's KDE check); whether the screen changed.
    pub fn poll_background(&mut self) -> bool {
        let labels = super::labels::poll(self);
        super::exports::poll(self) | labels
    }

    /// Whether work off the input loop is under way, so the loop should wake soon.
    pub fn background_busy(&self) -> bool {
        self.labels.busy() || self.exports.busy() || self.exports.checking()
    }

    pub fn render(&self, frame: &mut Frame) {
        let area = frame.area();
        if let Some(p) = self.draw(frame.buffer_mut(), area) {
            frame.set_cursor_position(p);
        }
    }

    /// Draw everything into `buf`; returns where the cursor goes, if it shows.
    pub fn draw(&self, buf: &mut Buffer, area: Rect) -> Option<Position> {
        let area = area.intersection(buf.area);
        if area.width < MIN_W || area.height < MIN_H {
            self.too_small(buf, area);
            return None;
        }
        let compact = area.width < FULL_W || area.height < FULL_H;
        // A long message takes a second and third line from the body rather than being
        // cut: on a handheld it is often the whole answer.
        let status_lines = self.status_lines(area);
        let sh = status_lines.len() as u16;
        let header = Rect::new(area.x, area.y, area.width, 2);
        let footer = Rect::new(area.x, area.bottom() - 1 - sh, area.width, 1);
        let status = Rect::new(area.x, area.bottom() - sh, area.width, sh);
        let body = Rect::new(area.x, area.y + 2, area.width, area.height - 3 - sh);
        self.draw_header(buf, header, compact);
        let ui = Ui {
            theme: &self.theme,
            compact,
            editing: !(self.menu && self.on_form_screen()),
            keymap: &self.keymap,
            by_row: self.scroll_by_row,
        };
        let cursor = match self.screen {
            ScreenId::Receive => self.receive.render(buf, body, &ui),
            ScreenId::Produce => self.produce.render(buf, body, &ui),
            ScreenId::Ship => self.ship.render(buf, body, &ui),
            ScreenId::Lots => self.lots.render(buf, body, &ui),
            ScreenId::Trace => self.trace.render(buf, body, &ui),
            ScreenId::Master => self.master.render(buf, body, &ui),
            ScreenId::Help => self.help.render(buf, body, &ui),
        };
        let cursor = match self.exports.dialog.as_ref().filter(|d| d.shown) {
            // The dialog has the keys wherever it was opened from (the menu, too).
            Some(d) => super::exports::render(
                d,
                buf,
                body,
                &Ui {
                    editing: true,
                    ..ui
                },
            ),
            None => cursor,
        };
        if let Some(p) = &self.labels.preview {
            super::labels::render(p, buf, body, &ui);
        }
        self.draw_offer(buf, body);
        self.draw_footer(buf, footer);
        self.draw_status(buf, status, &status_lines);
        draw::safe_cells(buf, area);
        if self.theme.ascii {
            // Whatever free text a screen drew (names, notes) as it came: ASCII now.
            draw::ascii_cells(buf, area);
        }
        if self.wants_text() && self.drafts.offers.is_empty() {
            cursor
        } else {
            None
        }
    }

    fn too_small(&self, buf: &mut Buffer, area: Rect) {
        draw::clear(buf, area, self.theme.label);
        let msg = format!(
            "terminal too small: need {MIN_W}x{MIN_H} (now {}x{})",
            area.width, area.height
        );
        let lines = draw::wrap(&msg, area.width as usize);
        for (i, l) in lines.iter().enumerate().take(area.height as usize) {
            put(buf, area, area.x, area.y + i as u16, l, self.theme.strong);
        }
    }

    fn draw_header(&self, buf: &mut Buffer, area: Rect, compact: bool) {
        let t = &self.theme;
        let (r0, r1) = (draw::row(area, 0), draw::row(area, 1));
        draw::clear(buf, r0, t.header);
        draw::clear(buf, r1, t.tab);
        let clock = self.now.format("%Y-%m-%d %H:%M").to_string();
        // Row 0: plant, who, how the database is reached, date and time. Narrow terminals
        // drop the date first; then the station (an SSH station name such as
        // `vm:pts/8@127.0.0.1` is long), then they cut the user's name: who is signed in
        // and whether the server is there matter most on the floor, so they go last.
        let link = link_label(&self.link, compact);
        let when = if compact {
            self.now.format("%H:%M").to_string()
        } else {
            clock.clone()
        };
        let plant = format!(" {}", t.text(&self.plant));
        let width = area.width as usize;
        let who = header_who(
            &t.text(&self.operator),
            &t.text(&self.station_name),
            width,
            draw::width(&plant),
            draw::width(&format!("{}{link}{}{when} ", t.dot(), t.dot())),
            t.ellipsis(),
        );
        let right = format!("{who}{}{link}{}{when} ", t.dot(), t.dot());
        let left_room = width.saturating_sub(draw::width(&right) + 1);
        let left = draw::fit(&plant, left_room, t.ellipsis());
        put(buf, r0, area.x, area.y, &left, t.header);
        let rw = draw::width(&right) as u16;
        if rw < area.width {
            put(buf, r0, area.right() - rw, area.y, &right, t.header);
            if matches!(self.link, Link::Lost | Link::Refused) {
                // The link, in the warning colour, where it was just written.
                let at = area.right() - rw + (draw::width(&who) + draw::width(t.dot())) as u16;
                put(buf, r0, at, area.y, &link, t.warn);
            }
        } else {
            put(
                buf,
                r0,
                area.x,
                area.y,
                &draw::fit(&format!(" {clock}"), area.width as usize, t.ellipsis()),
                t.header,
            );
        }
        // Row 1: the screen tabs with their keys.
        let mut x = area.x;
        for s in ScreenId::ALL {
            let active = s == self.screen;
            let layers: &[Layer] = if compact {
                &[Layer::Menu, Layer::Global]
            } else {
                &[Layer::Global, Layer::Menu]
            };
            let key = self
                .keymap
                .key_for(layers, Action::Screen(s))
                .map(|k| k.label())
                .unwrap_or_default();
            let label = if compact && !active {
                format!(" {key} ")
            } else {
                format!(" {key} {} ", s.title())
            };
            let style = if active { t.tab_active } else { t.tab };
            x = put(buf, r1, x, r1.y, &label, style);
        }
    }

    /// Whether a binding does anything where the cursor is now (for the footer).
    fn hint_applies(&self, a: Action) -> bool {
        if self.labels.preview.is_some() {
            return super::labels::hint(a).is_some();
        }
        if self.exports.shown() {
            return super::exports::hint_applies(self, a);
        }
        let lots_text = self.screen == ScreenId::Lots && self.lots.wants_text();
        match a {
            Action::ShippingKdes => self.screen == ScreenId::Ship && self.ship.last_event.is_some(),
            Action::RemoveLine => {
                matches!(self.screen, ScreenId::Produce | ScreenId::Ship)
                    || self.screen == ScreenId::Master && self.master.recipe.is_some()
            }
            // Recipes are items': not offered on the parties' list.
            Action::Recipe => {
                self.screen == ScreenId::Master
                    && self.master.tab == super::screens::master::Tab::Items
            }
            Action::PrintLabel => super::labels::lot_to_print(self).is_some(),
            Action::RecordReturn => self.screen == ScreenId::Ship,
            Action::NextField
            | Action::PrevField
            | Action::Clear
            | Action::Save
            | Action::Up
            | Action::Down
                if lots_text =>
            {
                false
            }
            _ if self.screen == ScreenId::Trace => self.trace.hint_applies(a),
            // The master-data form and prompt: no lines, nothing to print, nothing to clear.
            Action::Clear if self.screen == ScreenId::Master && self.master.wants_text() => false,
            // Only while the details on screen hold more than they show (as last drawn).
            Action::ScrollDown | Action::ScrollUp => {
                self.screen == ScreenId::Master
                    && self.master.focus == super::screens::master::Focus::Details
                    && self.master.details_scroll.can_scroll()
            }
            Action::Open => {
                !(self.screen == ScreenId::Lots
                    && self.lots.focus == super::screens::lots::Focus::History)
            }
            _ => true,
        }
    }

    /// What Enter and Esc do in the Lots screen's fields, which are not form fields.
    fn hint_desc(&self, a: Action, desc: &str) -> String {
        if self.labels.preview.is_some()
            && let Some(d) = super::labels::hint(a)
        {
            return d.into();
        }
        if self.exports.shown() {
            return super::exports::hint_desc(self, a)
                .map(str::to_string)
                .unwrap_or_else(|| desc.to_string());
        }
        if self.screen == ScreenId::Trace
            && let Some(d) = self.trace.hint_desc(a)
        {
            return d.into();
        }
        if self.screen == ScreenId::Master && self.master.wants_text() {
            match a {
                Action::Confirm if self.master.prompt.is_some() => return "retire".into(),
                // Enter on a recipe's line takes it back into the fields below.
                Action::Confirm
                    if self
                        .master
                        .recipe
                        .as_ref()
                        .is_some_and(|r| r.form.slot() == super::form::Slot::Lines) =>
                {
                    return "change line".into();
                }
                Action::Cancel => return "close".into(),
                _ => {}
            }
        }
        if self.screen == ScreenId::Lots && self.lots.wants_text() {
            let prompt = self.lots.prompt.is_some();
            match a {
                Action::Confirm => return if prompt { "ok" } else { "search" }.into(),
                Action::Cancel => return if prompt { "cancel" } else { "list" }.into(),
                _ => {}
            }
        }
        desc.to_string()
    }

    fn draw_footer(&self, buf: &mut Buffer, area: Rect) {
        let t = &self.theme;
        draw::clear(buf, area, t.footer);
        let help = self
            .keymap
            .key_for(&[Layer::Global], Action::Screen(ScreenId::Help))
            .map(|k| (k.label(), "help".to_string()));
        let mut hints: Vec<(String, String, bool)> = Vec::new();
        let mut seen: Vec<Action> = Vec::new();
        for layer in self.layers() {
            if layer == Layer::Global {
                continue;
            }
            for b in self.keymap.bindings(layer) {
                if seen.contains(&b.action) || !self.hint_applies(b.action) {
                    continue;
                }
                seen.push(b.action);
                hints.push((
                    b.key.label(),
                    self.hint_desc(b.action, &b.desc),
                    self.role >= b.action.required_role(),
                ));
            }
        }
        let width = area.width as usize;
        let help_w = help
            .as_ref()
            .map(|(k, d)| k.len() + d.len() + 1)
            .unwrap_or(0);
        let mut used = 0;
        let mut x = area.x;
        for (k, d, allowed) in &hints {
            let w = draw::width(k) + 1 + draw::width(d) + 2;
            if used + w + help_w > width {
                break;
            }
            // A key this user's role may not use stays in view, greyed: pressing it says
            // why, rather than the key seeming to be missing.
            let (ks, ds) = if *allowed {
                (t.key, t.footer)
            } else {
                (t.dim, t.dim)
            };
            x = put(buf, area, x, area.y, k, ks);
            x = put(buf, area, x, area.y, &format!(" {d}  "), ds);
            used += w;
        }
        if let Some((k, d)) = help
            && help_w <= width
        {
            let hx = area.right() - help_w as u16;
            let hx = hx.max(x);
            let nx = put(buf, area, hx, area.y, &k, t.key);
            put(buf, area, nx, area.y, &format!(" {d}"), t.footer);
        }
    }

    /// The status message as drawn: wrapped to the width, on at most three lines, the last
    /// cut with an ellipsis if it still does not fit.
    fn status_lines(&self, area: Rect) -> Vec<String> {
        let t = &self.theme;
        let Some(s) = &self.status else {
            self.status_cut.set(false);
            return vec![String::new()];
        };
        let w = area.width as usize;
        // Up to three lines, as long as the body keeps six rows.
        let most = (area.height.saturating_sub(3 + 6) as usize).clamp(1, 3);
        let mut lines = draw::wrap(&t.text(&s.text), w);
        self.status_cut.set(lines.len() > most);
        if lines.len() > most {
            // Cut, and say where the whole of it is: Help opens with it first.
            let more = format!(
                " ({} shows all)",
                self.hint_key(Action::Screen(ScreenId::Help))
            );
            let rest = lines[most - 1..].join(" ");
            lines.truncate(most - 1);
            let room = w.saturating_sub(draw::width(&more));
            lines.push(if room >= 8 {
                draw::fit(&rest, room, t.ellipsis()) + &more
            } else {
                draw::fit(&rest, w, t.ellipsis())
            });
        }
        lines
    }

    fn draw_status(&self, buf: &mut Buffer, area: Rect, lines: &[String]) {
        let t = &self.theme;
        let style = match self.status.as_ref().map(|s| s.level) {
            None | Some(Level::Info) => t.info,
            Some(Level::Ok) => t.ok,
            Some(Level::Warn) => t.warn,
            Some(Level::Error) => t.error,
        };
        draw::clear(buf, area, style);
        for (i, l) in lines.iter().enumerate() {
            put(buf, area, area.x, area.y + i as u16, l, style);
        }
    }
}

/// Who is signed in, as the header shows it in `width` columns beside the plant's name
/// (`plant_w`, with its leading space) and the link and clock (`rest_w`): `user@station`
/// while the plant keeps a dozen columns (or all of itself), else the user alone, cut to
/// fit when even that is too wide (never below three characters and the ellipsis).
fn header_who(
    user: &str,
    station: &str,
    width: usize,
    plant_w: usize,
    rest_w: usize,
    ell: &str,
) -> String {
    let room = width.saturating_sub(rest_w + 1);
    let full = if station.is_empty() {
        user.to_string()
    } else {
        format!("{user}@{station}")
    };
    let plant_keeps = plant_w.min(12);
    if draw::width(&full) + plant_keeps <= room {
        return full;
    }
    if draw::width(user) <= room {
        return user.to_string();
    }
    draw::fit(user, room.max(3 + draw::width(ell)), ell)
}

/// How the header names the way this app reaches the database.
fn link_label(link: &Link, compact: bool) -> String {
    match (link, compact) {
        (Link::Alone, _) => "alone".into(),
        (Link::Server { .. }, _) => "server".into(),
        (Link::Lost, false) => "reconnecting".into(),
        (Link::Lost, true) => "offline".into(),
        (Link::Refused, _) => "refused".into(),
    }
}
