//! Exporting the trace: the tree as text and its rows as CSV, beside each other.

use super::*;
use std::path::PathBuf;

impl Trace {
    pub(super) fn ask_export(&mut self) -> Outcome {
        let Some(l) = &self.loaded else {
            return Outcome::none();
        };
        let name = format!("trace-{}-{}.txt", l.root().code, l.graph.direction);
        self.prompt = Some(Prompt {
            kind: PromptKind::Export,
            form: one_field("file", "File", &name),
        });
        Outcome::changed()
    }

    /// Write the tree as text and its rows as CSV, beside each other.
    pub(super) fn export(&mut self, file: String, station: &dyn Station) -> Outcome {
        if file.is_empty() {
            let p = self.prompt.as_mut().expect("prompt");
            return refuse(&mut p.form, &invalid("file", "name the file to write"));
        }
        let path = PathBuf::from(&file);
        let (text_path, csv_path) = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            (path.with_extension("txt"), path)
        } else {
            let csv = path.with_extension("csv");
            (path, csv)
        };
        // Never over another file: the name stays in the prompt to be changed.
        if let Some(there) = [&text_path, &csv_path].into_iter().find(|p| p.exists()) {
            let p = self.prompt.as_mut().expect("prompt");
            return refuse(
                &mut p.form,
                &invalid(
                    "file",
                    format!(
                        "{} already exists; give another name (nothing was written)",
                        there.display()
                    ),
                ),
            );
        }
        // Every lot's creating event, for its reference document.
        if let Some(l) = &self.loaded {
            let want: Vec<u64> = l
                .graph
                .lots
                .iter()
                .map(|x| x.event)
                .filter(|e| !self.events.contains_key(e))
                .collect();
            for e in want {
                match station.event(e) {
                    Ok(ev) => {
                        self.events.insert(e, ev);
                    }
                    Err(err) => return Outcome::error(&err),
                }
            }
        }
        let date = match station.today() {
            Ok(d) => d,
            Err(e) => return Outcome::error(&e),
        };
        let (Some(ctx), Some(l)) = (self.ctx(), self.loaded.as_ref()) else {
            return Outcome::none();
        };
        let rows = l.model.flatten(|_| true);
        let text = report::Report {
            ctx: &ctx,
            rows: &rows,
            plant: &self.plant,
            by: &self.operator,
            date,
            elapsed: self.elapsed,
            scope: l.scope.as_ref(),
            balance: l.balance.as_ref(),
        }
        .text();
        let (csv, n) = report::csv_rows(&ctx, &rows, &self.events);
        let written = write_new(&text_path, &text).and_then(|()| write_new(&csv_path, &csv));
        match written {
            Ok(()) => {
                self.prompt = None;
                Outcome::changed().status(Status::ok(format!(
                    "Exported the trace: {} (tree) and {} ({n} rows)",
                    text_path.display(),
                    csv_path.display()
                )))
            }
            Err(e) => {
                let p = self.prompt.as_mut().expect("prompt");
                refuse(
                    &mut p.form,
                    &invalid("file", format!("{file} could not be written: {e}")),
                )
            }
        }
    }
}

/// Write `text` as a new file, whole or not at all and never over one that appeared
/// since the check (`lotline_files`).
fn write_new(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    lotline_files::write_new(path, text).map_err(std::io::Error::from)
}
