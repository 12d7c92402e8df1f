//! Mock recalls, QA's record for the auditor: a result kept in the root lot's history,
//! and records started, counted line by line and completed.

use super::*;

impl Tx<'_> {
    /// Keep a mock recall's result as an event in the root lot's history, for the auditor.
    pub(super) fn record_mock_recall(
        &mut self,
        m: MockRecall,
        date: NaiveDate,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(date, "date", today)?;
        // Through the transaction's own view of lots, which a bulk load's pending writes
        // are part of.
        let known =
            self.lot_cache.borrow().contains_key(&m.root.0) || self.lots.get(m.root.0)?.is_some();
        if !known {
            return Err(StoreError::invalid(
                "lot",
                format!("no lot with id {}", m.root.0),
            ));
        }
        let root = self.lot(m.root)?;
        root.check_date(date, "date")?;
        if root.status == LotStatus::Voided {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} was voided", root.code),
            ));
        }
        let note = clean_text(&m.note, "note", 500)?;
        if !matches!(m.direction.as_str(), "forward" | "backward" | "both") {
            return Err(StoreError::invalid(
                "direction",
                format!(
                    "{} is not a direction; accepted: forward, backward, both",
                    lotline_domain::text::excerpt(&m.direction)
                ),
            ));
        }
        self.append(
            stamp,
            date,
            None,
            EventKind::MockRecall(MockRecall { note, ..m }),
        )
    }

    /// The first event of a mock recall record, on its root lot.
    pub(super) fn start_mock_recall(
        &mut self,
        m: StartMockRecall,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(m.date, "date", today)?;
        let note = clean_text(&m.note, "note", 500)?;
        let asked_as = clean_text(&m.asked_as, "lot", 100)?;
        let root = self.lot_by_code(&m.lot, "lot")?;
        if root.status == LotStatus::Voided {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} was voided; start from a lot that exists", root.code),
            ));
        }
        self.append(
            stamp,
            m.date,
            None,
            EventKind::MockRecallStarted(MockStart {
                root: root.id,
                asked_as: if asked_as == root.code.as_str() {
                    String::new()
                } else {
                    asked_as
                },
                note,
            }),
        )
    }

    /// Record what was found for one line of a mock recall, checked against its scope.
    pub(super) fn count_mock_recall(
        &mut self,
        c: NewMockCount,
        date: NaiveDate,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let view = self.store.mock_recall(c.recall)?;
        let line = crate::recall::resolve_count(&view, &c)?;
        let note = clean_text(&c.note, "note", 200)?;
        let kind = EventKind::MockRecallCount(MockCount {
            recall: c.recall,
            root: view.root.id,
            line,
            note,
        });
        self.mock_recall_event(c.recall, kind, date, stamp, today)
    }

    /// Complete a mock recall: its reconciliation as it stands is kept in the record.
    pub(super) fn finish_mock_recall(
        &mut self,
        recall: u64,
        note: &str,
        date: NaiveDate,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let view = self.store.mock_recall(recall)?;
        let note = clean_text(note, "note", 500)?;
        // A record with a gap is signed with what will be done about it, never without.
        let findings = view.result.findings();
        if note.trim().is_empty() && view.finished.is_none() && !findings.is_empty() {
            return Err(StoreError::invalid(
                "note",
                format!(
                    "mock recall {recall} has {} (first: {}); give the corrective actions, what will be done about them, to complete it",
                    lotline_domain::words::plural(
                        findings.len(),
                        "gap or over-count",
                        "gaps or over-counts"
                    ),
                    findings[0].text()
                ),
            ));
        }
        let kind = EventKind::MockRecallFinished(Box::new(MockFinish {
            recall,
            root: view.root.id,
            result: view.result,
            note,
        }));
        self.mock_recall_event(recall, kind, date, stamp, today)
    }

    /// A count or the completion of a mock recall, checked against the record as last
    /// committed; refused here if the record was completed since.
    fn mock_recall_event(
        &mut self,
        recall: u64,
        kind: EventKind,
        date: NaiveDate,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(date, "date", today)?;
        for e in self.mock_recalls.range((recall, 0)..=(recall, u64::MAX))? {
            let id = e?.0.value().1;
            if let EventKind::MockRecallFinished(_) = self.event(id, "recall")?.kind {
                return Err(StoreError::invalid(
                    "recall",
                    format!(
                        "mock recall {recall} was completed (event {id}); start a new one to count again"
                    ),
                ));
            }
        }
        self.append(stamp, date, None, kind)
    }
}
