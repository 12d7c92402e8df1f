//! A mock recall's paperwork from the app: the workbook and the one-page summary the
//! command line's `mock-recall export` writes (`lotline_export::mock`), for the record on
//! the Trace screen, through the export dialog and its worker.

use super::*;

/// Open the dialog for mock recall `id`'s workbook and summary, both offered under names
/// not taken.
pub fn open_mock(app: &mut App, id: u64) -> Outcome {
    if let Some(o) = refuse_second(app) {
        return o;
    }
    let dir = app.exports.dir();
    let stem = format!("mock-recall-{id}");
    let mut xlsx = Field::new("xlsx", "Sheets").placeholder("empty: no workbook");
    xlsx.reset_to(&free_path(&dir, &stem, ".xlsx").display().to_string());
    let mut summary = Field::new("summary", "Summary").placeholder("empty: no summary");
    summary.reset_to(
        &free_path(&dir, &format!("{stem}-summary"), ".md")
            .display()
            .to_string(),
    );
    let mut form = Form::new(vec![xlsx, summary]);
    form.order = vec![Slot::Field(0), Slot::Field(1)];
    app.exports.dialog = Some(Dialog::new(What::Mock { id }, form));
    Outcome::changed().status(Status::info(format!(
        "Mock recall {id} for the auditor: check the file names and press Enter"
    )))
}

/// The files asked for, checked: at least one, none there already.
pub(super) fn job(form: &Form, id: u64) -> Result<Job, Refused<StationError>> {
    let mut c = Checks::new();
    let path = |name: &str| {
        Some(form.value(name).trim())
            .filter(|t| !t.is_empty())
            .map(PathBuf::from)
    };
    let (xlsx, summary) = (path("xlsx"), path("summary"));
    if xlsx.is_none() && summary.is_none() {
        c.push(invalid(
            "xlsx",
            "name the workbook, the summary or both to write",
        ));
    }
    for (field, p) in [("xlsx", &xlsx), ("summary", &summary)] {
        if let Some(p) = p.as_ref().filter(|p| p.exists()) {
            c.push(invalid(
                field,
                format!(
                    "{} already exists; give another name (nothing was written)",
                    p.display()
                ),
            ));
        }
    }
    if xlsx.is_some() && xlsx == summary {
        c.push(invalid("summary", "give the summary a name of its own"));
    }
    c.finish(|| Some(Job::Mock { id, xlsx, summary }))
}

impl Work {
    /// Read the record once, then write the files asked for.
    pub(super) fn mock(
        &self,
        st: &dyn Station,
        id: u64,
        xlsx: Option<&Path>,
        summary: Option<&Path>,
    ) -> Result<Vec<String>, End> {
        self.point(Progress::at(1, 2, "reading the mock recall and its traces"))?;
        let p = lotline_export::mock::gather(st, id, chrono::Utc::now()).map_err(failed)?;
        self.point(Progress::at(2, 2, "writing the files"))?;
        let mut lines = Vec::new();
        if let Some(path) = xlsx {
            lotline_export::recall::write_xlsx(path, "xlsx", &lotline_export::mock::tables(&p))
                .map_err(failed)?;
            lines.push(format!("Wrote {} (workbook)", path.display()));
        }
        if let Some(path) = summary {
            lotline_export::file::write_new_file(
                path,
                &lotline_export::mock::summary(&p),
                "summary",
            )
            .map_err(failed)?;
            lines.push(format!("Wrote {} (one-page summary)", path.display()));
        }
        lines.push(match &p.view.finished {
            Some(_) => {
                "Print the summary for the QA manager's and the auditor's signatures.".into()
            }
            None => format!(
                "Mock recall {id} is still in progress: complete it (D) before it is signed."
            ),
        });
        Ok(lines)
    }
}
