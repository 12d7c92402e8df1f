//! Record encoding: one version byte, then postcard. The byte lets a later lotline read
//! records written by this one after a field is added.

use super::StoreError;
use serde::{Serialize, de::DeserializeOwned};

pub const RECORD_VERSION: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![RECORD_VERSION];
    // postcard only fails on writer errors or unsupported types; a Vec writer and our
    // plain structs can produce neither.
    out.extend(postcard::to_stdvec(value).expect("records always encode"));
    out
}

pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    table: &'static str,
    key: &dyn std::fmt::Display,
) -> Result<T, StoreError> {
    let damaged = |detail: String| StoreError::Damaged {
        detail: format!("record {key} in table {table}: {detail}"),
    };
    match bytes.split_first() {
        Some((&RECORD_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| damaged(e.to_string()))
        }
        Some((v, _)) => Err(damaged(format!(
            "record version {v} is not one this lotline reads"
        ))),
        None => Err(damaged("empty record".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lotline_domain::{Qty, Unit};

    #[test]
    fn round_trip_and_damage() {
        let v = (Qty(12_500), Unit::Kg, "x".to_string());
        let bytes = encode(&v);
        assert_eq!(bytes[0], RECORD_VERSION);
        let back: (Qty, Unit, String) = decode(&bytes, "lots", &1).unwrap();
        assert_eq!(back, v);
        assert!(matches!(
            decode::<(Qty, Unit, String)>(&bytes[..2], "lots", &1),
            Err(StoreError::Damaged { .. })
        ));
        assert!(matches!(
            decode::<u32>(&[9, 1], "lots", &1),
            Err(StoreError::Damaged { .. })
        ));
        assert!(matches!(
            decode::<u32>(&[], "lots", &1),
            Err(StoreError::Damaged { .. })
        ));
    }
}
