//! The app on a machine with no plant yet: the guided start (`screens::setup`) in the
//! app's frame — header, step tabs, key hints, status line — until the review is
//! confirmed; then the caller writes the plant and the app proper opens on it.

use super::draw::{self, put};
use super::input::Input;
use super::keymap::{Action, Keymap, Layer};
use super::queue::{InternalEvent, Level, Outcome, Status};
use super::screens::setup::{Setup, Step};
use super::screens::{FormAction, Ui};
use super::theme::Theme;
use lotline_station::setup::PlantSetup;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::Event;
use ratatui::layout::{Position, Rect};

pub struct FirstRun {
    pub setup: Setup,
    pub keymap: Keymap,
    pub theme: Theme,
    pub status: Option<Status>,
    pub quit: bool,
    quit_armed: bool,
}

impl FirstRun {
    /// A guided start for a plant to be written to `db`, set up by `user`.
    pub fn new(keymap: Keymap, theme: Theme, db: &str, user: &str) -> FirstRun {
        FirstRun {
            setup: Setup::new(db, user),
            keymap,
            theme,
            status: Some(Status::info(
                "No plant here yet: four short steps set one up. Nothing is written until you confirm.",
            )),
            quit: false,
            quit_armed: false,
        }
    }

    /// The setup the person confirmed, once: the caller writes it.
    pub fn take_confirmed(&mut self) -> Option<PlantSetup> {
        self.setup.confirmed.take()
    }

    /// The plant could not be written: say why, and stay on the review to try again.
    pub fn failed(&mut self, why: &str) {
        self.setup.step = Step::Review;
        self.status = Some(Status::error(why.to_string()));
    }

    fn key_label(&self, layers: &[Layer], a: Action) -> String {
        self.keymap
            .key_for(layers, a)
            .map(|k| k.label())
            .unwrap_or_default()
    }

    /// React to one input; whether the screen changed.
    pub fn handle(&mut self, input: Input) -> bool {
        let out = match input {
            Input::Resize => return true,
            Input::Paste(text) | Input::Scan(text) => self.setup.update(FormAction::Paste(text)),
            Input::Key { key, event } => {
                let layers = [Layer::Form, Layer::Global];
                let action = self.keymap.lookup(&layers, key);
                if action != Some(Action::Quit) {
                    self.quit_armed = false;
                }
                match action {
                    Some(Action::Quit) => {
                        if !self.setup.is_dirty() || self.quit_armed {
                            self.quit = true;
                            return true;
                        }
                        self.quit_armed = true;
                        let k = self.key_label(&[Layer::Global], Action::Quit);
                        Outcome::changed().status(Status::warn(format!(
                            "Nothing is written yet; press {k} again to quit and lose what you typed"
                        )))
                    }
                    Some(Action::Redraw) => Outcome::changed(),
                    Some(Action::Screen(_)) => Outcome::changed().status(Status::warn(
                        "The other screens open once the plant is set up: finish these steps first",
                    )),
                    Some(a) => match FormAction::from_action(a) {
                        Some(fa) => self.setup.update(fa),
                        None => Outcome::none(),
                    },
                    None => {
                        match tui_input::backend::crossterm::to_input_request(&Event::Key(event)) {
                            Some(req) => self.setup.update(FormAction::Edit(req)),
                            None => Outcome::none(),
                        }
                    }
                }
            }
        };
        let mut changed = out.changed;
        for e in out.events {
            changed = true;
            if let InternalEvent::Status(s) = e {
                self.status = Some(s);
            }
        }
        changed
    }

    /// Draw the frame and the step in front; where the cursor goes.
    pub fn draw(&self, buf: &mut Buffer, area: Rect) -> Option<Position> {
        use super::app::{FULL_H, FULL_W, MIN_H, MIN_W};
        let area = area.intersection(buf.area);
        let t = &self.theme;
        if area.width < MIN_W || area.height < MIN_H {
            draw::clear(buf, area, t.label);
            put(buf, area, area.x, area.y, "terminal too small", t.strong);
            return None;
        }
        let compact = area.width < FULL_W || area.height < FULL_H;
        let (r0, r1) = (draw::row(area, 0), draw::row(area, 1));
        draw::clear(buf, r0, t.header);
        draw::clear(buf, r1, t.tab);
        let right = format!("{} ", self.setup.user);
        let left_room = (area.width as usize).saturating_sub(draw::width(&right) + 1);
        put(
            buf,
            r0,
            area.x,
            area.y,
            &draw::fit(" New plant: guided start", left_room, t.ellipsis()),
            t.header,
        );
        let rw = draw::width(&right) as u16;
        if rw < area.width {
            put(buf, r0, area.right() - rw, area.y, &right, t.header);
        }
        let mut x = area.x;
        for (i, s) in Step::ALL.iter().enumerate() {
            let active = *s == self.setup.step;
            let label = if compact && !active {
                format!(" {} ", i + 1)
            } else {
                format!(" {} {} ", i + 1, s.title())
            };
            x = put(
                buf,
                r1,
                x,
                r1.y,
                &label,
                if active { t.tab_active } else { t.tab },
            );
        }
        let body = Rect::new(area.x, area.y + 2, area.width, area.height - 4);
        let ui = Ui {
            theme: t,
            compact,
            editing: true,
            keymap: &self.keymap,
            by_row: false,
        };
        let cursor = self.setup.render(buf, body, &ui);
        self.draw_footer(buf, Rect::new(area.x, area.bottom() - 2, area.width, 1));
        let status = Rect::new(area.x, area.bottom() - 1, area.width, 1);
        match &self.status {
            Some(s) => {
                let style = match s.level {
                    Level::Info => t.info,
                    Level::Ok => t.ok,
                    Level::Warn => t.warn,
                    Level::Error => t.error,
                };
                draw::clear(buf, status, style);
                put(
                    buf,
                    status,
                    status.x,
                    status.y,
                    &draw::fit(&t.text(&s.text), status.width as usize, t.ellipsis()),
                    style,
                );
            }
            None => draw::clear(buf, status, t.info),
        }
        draw::safe_cells(buf, area);
        if t.ascii {
            draw::ascii_cells(buf, area);
        }
        cursor
    }

    fn draw_footer(&self, buf: &mut Buffer, area: Rect) {
        let t = &self.theme;
        draw::clear(buf, area, t.footer);
        let save = match self.setup.step {
            Step::Items => "add item",
            Step::Parties => "add party",
            _ => "next step",
        };
        let hints: Vec<(Action, &str)> = match self.setup.step {
            Step::Review => vec![
                (Action::Confirm, "write the plant"),
                (Action::Cancel, "back"),
            ],
            Step::Plant => vec![
                (Action::Confirm, "next field"),
                (Action::Save, save),
                (Action::Cancel, "back"),
            ],
            _ => vec![
                (Action::Confirm, "next field"),
                (Action::Save, save),
                (Action::RemoveLine, "skip step"),
                (Action::Cancel, "back"),
            ],
        };
        let mut x = area.x;
        for (a, d) in hints {
            let k = self.key_label(&[Layer::Form], a);
            if k.is_empty() {
                continue;
            }
            let w = (draw::width(&k) + draw::width(d) + 3) as u16;
            if x + w > area.right() {
                break;
            }
            x = put(buf, area, x, area.y, &k, t.key);
            x = put(buf, area, x, area.y, &format!(" {d}  "), t.footer);
        }
        let q = self.key_label(&[Layer::Global], Action::Quit);
        let quit = format!("{q} quit");
        let qw = draw::width(&quit) as u16;
        if !q.is_empty() && x + qw <= area.right() {
            let qx = area.right() - qw;
            let nx = put(buf, area, qx, area.y, &q, t.key);
            put(buf, area, nx, area.y, " quit", t.footer);
        }
    }
}
