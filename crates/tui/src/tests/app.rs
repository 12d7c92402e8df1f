//! Stories through the whole app: keys in, through the keymap, to screens and the station.

use super::*;
use crate::keymap::ScreenId;
use crate::queue::Level;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};

fn key(c: KeyCode) -> Input {
    Input::code(c)
}

fn f(n: u8) -> Input {
    key(KeyCode::F(n))
}

fn status(app: &App) -> String {
    app.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

#[test]
fn switching_screens_never_loses_a_half_filled_form() {
    let p = plant();
    let mut a = app(&p);
    typed(&mut a, &p, "flour");
    keys(&mut a, &p, [key(KeyCode::Enter)]);
    typed(&mut a, &p, "mil");
    keys(&mut a, &p, [f(3)]);
    assert_eq!(a.screen, ScreenId::Produce);
    typed(&mut a, &p, "dou");
    keys(&mut a, &p, [f(4), f(6), f(1), f(2)]);
    assert_eq!(a.screen, ScreenId::Receive);
    assert_eq!(a.receive.form.value("item"), "FLOUR");
    assert_eq!(a.receive.form.value("supplier"), "mil");
    assert!(
        a.receive.form.is_focused("supplier"),
        "the cursor is where it was"
    );
    keys(&mut a, &p, [f(3)]);
    assert_eq!(a.produce.entry.form.value("item"), "dou");
}

#[test]
fn esc_then_a_letter_switches_screens_on_terminals_without_function_keys() {
    let p = plant();
    let mut a = app(&p);
    typed(&mut a, &p, "p");
    assert_eq!(
        a.receive.form.value("item"),
        "p",
        "in a field, letters are text"
    );
    keys(&mut a, &p, [key(KeyCode::Esc)]);
    assert!(!a.menu, "the first Esc closes the pick list");
    keys(&mut a, &p, [key(KeyCode::Esc)]);
    assert!(a.menu);
    typed(&mut a, &p, "x");
    assert!(status(&a).contains("x is not a menu key"), "{}", status(&a));
    typed(&mut a, &p, "p");
    assert_eq!(a.screen, ScreenId::Produce);
    assert!(!a.menu, "a new screen takes typing again");
    keys(&mut a, &p, [key(KeyCode::Esc)]);
    typed(&mut a, &p, "l");
    assert_eq!(a.screen, ScreenId::Lots);
    keys(&mut a, &p, [key(KeyCode::Esc)]); // from the search field to the list
    typed(&mut a, &p, "?");
    assert_eq!(a.screen, ScreenId::Help);
    keys(&mut a, &p, [key(KeyCode::Esc)]);
    assert_eq!(
        a.screen,
        ScreenId::Lots,
        "Help goes back where it came from"
    );
    // Trace opens on its start field, which takes typing; Esc leaves it for the letters.
    keys(&mut a, &p, [f(5)]);
    assert_eq!(a.screen, ScreenId::Trace);
    assert!(a.wants_text());
    typed(&mut a, &p, "l");
    assert_eq!(
        a.trace.start.value("code"),
        "l",
        "in the field, letters are text"
    );
    keys(&mut a, &p, [key(KeyCode::Esc)]);
    assert!(!a.wants_text());
    typed(&mut a, &p, "l");
    assert_eq!(a.screen, ScreenId::Lots);
    // Alt+letter works from inside a field.
    keys(&mut a, &p, [f(2)]);
    keys(
        &mut a,
        &p,
        [Input::key(KeyEvent::new(
            KeyCode::Char('s'),
            KeyModifiers::ALT,
        ))],
    );
    assert_eq!(a.screen, ScreenId::Ship);
    // Back into the form from the menu.
    keys(&mut a, &p, [key(KeyCode::Esc), key(KeyCode::Enter)]);
    assert!(!a.menu);
}

#[test]
fn quit_asks_again_while_a_form_holds_input() {
    let p = plant();
    let mut a = app(&p);
    keys(&mut a, &p, [Input::ctrl('c')]);
    assert!(a.quit, "nothing typed: quit at once");
    let mut a = app(&p);
    typed(&mut a, &p, "flour");
    keys(&mut a, &p, [Input::ctrl('c')]);
    assert!(!a.quit);
    assert_eq!(
        status(&a),
        "Unsaved input on Receive; press C-c again to quit anyway"
    );
    keys(&mut a, &p, [Input::ctrl('c')]);
    assert!(a.quit);
}

#[test]
fn keys_match_whatever_their_kind_and_state() {
    let p = plant();
    let mut a = app(&p);
    let mut ev = KeyEvent::new(KeyCode::F(3), KeyModifiers::NONE);
    ev.kind = KeyEventKind::Repeat;
    ev.state = KeyEventState::CAPS_LOCK | KeyEventState::NUM_LOCK;
    keys(&mut a, &p, [Input::key(ev)]);
    assert_eq!(a.screen, ScreenId::Produce);
}

#[test]
fn a_save_from_the_app_shows_the_new_lot_and_errors_name_the_field() {
    let p = plant();
    let mut a = app(&p);
    keys(&mut a, &p, [Input::ctrl('s')]);
    let s = a.status.clone().unwrap();
    assert_eq!(
        (s.level, s.text.as_str()),
        (
            Level::Error,
            "item: item is required (3 more fields to fix)"
        )
    );
    assert!(screen(&a, 80, 24).contains("item: item is required (3 more fields to fix)"));
    for (text, k) in [
        ("sugar", KeyCode::Enter),
        ("mill", KeyCode::Enter),
        ("S-10", KeyCode::Enter),
        ("40", KeyCode::Enter),
    ] {
        typed(&mut a, &p, text);
        keys(&mut a, &p, [key(k)]);
    }
    keys(&mut a, &p, [Input::ctrl('s')]);
    let s = a.status.clone().unwrap();
    assert_eq!(s.level, Level::Ok, "{}", s.text);
    let code = a.receive.last.clone().unwrap().code;
    assert!(screen(&a, 80, 24).contains(&format!("Lot {code}")));
    let saved = s.text;
    // The Lots screen heard about it, and does not repeat Receive's message.
    keys(&mut a, &p, [f(6)]);
    assert!(
        !status(&a).contains(&saved) && !screen(&a, 80, 24).contains(&saved),
        "Receive's message stays on Receive: {}",
        status(&a)
    );
    keys(&mut a, &p, [f(2)]);
    assert_eq!(status(&a), saved, "and is there again on coming back");
    keys(&mut a, &p, [f(6)]);
    typed(&mut a, &p, code.as_str());
    keys(&mut a, &p, [key(KeyCode::Enter), key(KeyCode::Enter)]);
    assert_eq!(a.lots.history.as_ref().unwrap().lot.code, code);
}

#[test]
fn paste_goes_into_the_field() {
    let p = plant();
    let mut a = app(&p);
    keys(&mut a, &p, [Input::Paste("FLOUR\u{1b}".into())]);
    assert_eq!(
        a.receive.form.value("item"),
        "FLOUR",
        "control characters are dropped"
    );
}

#[test]
fn the_vim_keymap_drives_the_lots_list() {
    let p = plant();
    let mut a = App::new(Keymap::vim_map(), Theme::new(false, false), now(), &p.st);
    keys(&mut a, &p, [key(KeyCode::Esc)]);
    typed(&mut a, &p, "L");
    assert_eq!(a.screen, ScreenId::Lots);
    typed(&mut a, &p, "eggs");
    keys(&mut a, &p, [key(KeyCode::Enter)]);
    typed(&mut a, &p, "j");
    assert_eq!(a.lots.selected, 1);
    typed(&mut a, &p, "k");
    assert_eq!(a.lots.selected, 0);
    typed(&mut a, &p, "l");
    assert_eq!(a.lots.history.as_ref().unwrap().lot.code, p.eggs);
    typed(&mut a, &p, "h");
    assert!(a.lots.history.is_none());
}

#[test]
fn help_and_footer_show_the_keys_of_the_keymap_in_use() {
    let p = plant();
    let mut a = app(&p);
    let footer = |a: &App| screen(a, 80, 24).lines().nth(22).unwrap().to_string();
    assert!(footer(&a).contains("C-s save"), "{}", footer(&a));
    keys(&mut a, &p, [f(1)]);
    let text = screen(&a, 80, 24);
    assert!(text.contains("Keymap: built-in default"), "{text}");
    assert!(text.contains("F2, A-r"), "{text}");
    // A map of one's own: what Help and the footer say follows it.
    let mine = crate::keymap::DEFAULT_KEYMAP.replace(
        "on = \"<C-s>\", run = \"save\"",
        "on = \"<F9>\", run = \"save\"",
    );
    let map = Keymap::parse(&mine, "mine.toml").unwrap();
    let mut b = App::new(map, Theme::new(false, false), now(), &p.st);
    assert!(footer(&b).contains("F9 save"), "{}", footer(&b));
    keys(&mut b, &p, [Input::ctrl('s')]);
    assert!(
        b.status.as_ref().unwrap().level != Level::Error,
        "C-s no longer saves"
    );
    keys(&mut b, &p, [f(9)]);
    assert_eq!(
        b.status.as_ref().unwrap().text,
        "item: item is required (3 more fields to fix)"
    );
    keys(&mut b, &p, [f(1)]);
    assert!(screen(&b, 80, 24).contains("Keymap: mine.toml"));
}

#[test]
fn resizing_at_any_moment_keeps_what_was_typed() {
    let p = plant();
    let mut a = app(&p);
    typed(&mut a, &p, "flour");
    keys(&mut a, &p, [key(KeyCode::Enter)]);
    typed(&mut a, &p, "mi");
    for (w, h) in [
        (80, 24),
        (40, 16),
        (19, 9),
        (1, 1),
        (0, 0),
        (120, 40),
        (40, 16),
    ] {
        keys(&mut a, &p, [Input::Resize]);
        let _ = screen(&a, w, h);
    }
    typed(&mut a, &p, "ll");
    assert_eq!(a.receive.form.value("item"), "FLOUR");
    assert_eq!(a.receive.form.value("supplier"), "mill");
    assert!(screen(&a, 40, 16).contains("mill"));
}

#[test]
fn redraws_happen_only_on_change() {
    let p = plant();
    let mut a = app(&p);
    assert!(
        !a.handle(key(KeyCode::F(12)), &p.st),
        "an unbound key changes nothing"
    );
    assert!(!a.tick(now().naive_local() + chrono::Duration::seconds(30), &p.st));
    assert!(
        a.tick(now().naive_local() + chrono::Duration::seconds(60), &p.st),
        "the minute shown changed"
    );
    assert!(screen(&a, 80, 24).contains("2026-11-21 09:01"));
    assert!(a.handle(key(KeyCode::Char('f')), &p.st));
}

#[test]
fn ascii_mode_folds_the_status_line_and_free_text_to_ascii() {
    // Found in review: --ascii drew ASCII borders, but scan errors ("—"), temperatures
    // ("°C") and names with accents still went to the terminal as they were.
    let p = plant();
    p.st.add_item(NewItem {
        code: ItemCode::parse("CREME", "code").unwrap(),
        description: ProductDescription {
            name: "Crème fraîche — 1 l".into(),
            ..Default::default()
        },
        unit: Unit::L,
        kind: ItemKind::Ingredient,
        gtin: None,
        shelf_life_days: Some(20),
        ftl: false,
        receiving_temp: TempRange::default(),
    })
    .unwrap();
    let mut a = App::new(Keymap::default_map(), Theme::new(false, true), now(), &p.st);
    // A scan error with a dash in it.
    keys(
        &mut a,
        &p,
        [Input::Scan("]C11012345678901234567890123\u{1d}17".into())],
    );
    assert!(
        status(&a).contains(" — a missing separator"),
        "{}",
        status(&a)
    );
    let s = screen(&a, 120, 30);
    assert!(s.is_ascii(), "{s}");
    assert!(s.contains(" - a missing separator after it?"), "{s}");
    // A name with accents, in the item's pick list.
    typed(&mut a, &p, "cr");
    let s = screen(&a, 120, 30);
    assert!(s.is_ascii(), "{s}");
    assert!(s.contains("Creme fraiche - 1 l"), "{s}");
    // A temperature, and a cut status line ending in the ASCII ellipsis.
    a.status = Some(crate::queue::Status::error(
        "temp: 200 °C is not a plausible product temperature … (-60 to 100)",
    ));
    let s = screen(&a, 120, 30);
    assert!(s.is_ascii(), "{s}");
    assert!(
        s.contains("temp: 200 degC is not a plausible product temperature ... (-60 to 100)"),
        "{s}"
    );
    let s = screen(&a, 40, 16);
    assert!(s.is_ascii(), "{s}");
}

#[test]
fn a_message_too_long_for_the_status_line_is_whole_on_help() {
    let p = plant();
    let mut a = app(&p);
    let words: Vec<String> = (1..=40).map(|n| format!("word{n}")).collect();
    let long = words.join(" ");
    a.status = Some(crate::queue::Status::warn(long.clone()));
    // At 40 columns three lines hold about 120 characters: the rest is cut, and the last
    // line says where the whole message is.
    let small = screen(&a, 40, 16);
    assert!(small.contains("(F1 shows all)"), "{small}");
    assert!(!small.contains("word40"), "{small}");
    a.status = Some(crate::queue::Status::warn(words[..20].join(" ")));
    let wide = screen(&a, 80, 24);
    assert!(
        !wide.contains("shows all") && wide.contains("word20"),
        "a message that fits is not marked: {wide}"
    );
    a.status = Some(crate::queue::Status::warn(long.clone()));
    keys(&mut a, &p, [f(1)]);
    assert_eq!(a.screen, ScreenId::Help);
    let help = screen(&a, 40, 16);
    assert!(help.contains("Last message on Receive"), "{help}");
    // Help wraps it at its own width: every word is there, the last one too.
    let shown: String = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for w in ["word1 ", "word20", "word40"] {
        assert!(shown.contains(w), "{w} missing: {help}");
    }
    keys(&mut a, &p, [f(2)]);
    assert_eq!(status(&a), long, "the message is still Receive's");
}
