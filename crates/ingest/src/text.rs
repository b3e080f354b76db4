//! Opening text exports: transparent gzip (detected by magic bytes, since exports get renamed,
//! e.g. `Step1CUR.gz` holds CSV) and delimiter sniffing from the header line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::IngestError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// A header longer than this is not a header: stop rather than read a whole binary file.
const MAX_HEADER: u64 = 1 << 20;

pub(crate) fn file_label(path: &Path) -> String {
    path.display().to_string()
}

/// The file's bytes, decompressed when gzipped. Multi-member gzip is common in AWS exports.
pub(crate) fn open(path: &Path) -> Result<Box<dyn BufRead>, IngestError> {
    let label = file_label(path);
    let mut file = File::open(path).map_err(|e| IngestError::io(&label, e))?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| IngestError::io(&label, e))?;
    let file = File::open(path).map_err(|e| IngestError::io(&label, e))?;
    Ok(if n == 2 && magic == GZIP_MAGIC {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(BufReader::new(file)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The first line of the (decompressed) file, without its line ending or a UTF-8 BOM.
pub(crate) fn first_line(path: &Path) -> Result<String, IngestError> {
    let label = file_label(path);
    let mut line = Vec::new();
    open(path)?
        .take(MAX_HEADER)
        .read_until(b'\n', &mut line)
        .map_err(|e| IngestError::io(&label, e))?;
    let text = String::from_utf8_lossy(&line);
    Ok(text
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\n', '\r'])
        .to_owned())
}

/// The candidate that occurs most often outside quotes in the header wins. `\x01` is Hive's
/// default field separator (Athena CTAS output, the workshop CUR).
pub(crate) fn sniff_delimiter(header: &str) -> Option<u8> {
    let mut counts = [
        (b'\x01', 0usize),
        (b'\t', 0),
        (b',', 0),
        (b';', 0),
        (b'|', 0),
    ];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(slot) = counts.iter_mut().find(|(d, _)| *d == b) {
            slot.1 += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d)
}

/// A CSV reader over the file with the sniffed delimiter. Hive-style `\x01` files never quote,
/// so a stray `"` in a description must stay literal there.
pub(crate) fn csv_reader(path: &Path) -> Result<csv::Reader<Box<dyn BufRead>>, IngestError> {
    let label = file_label(path);
    let header = first_line(path)?;
    let delimiter = sniff_delimiter(&header).ok_or_else(|| IngestError::UnknownFormat {
        file: label.clone(),
        reason: "no delimiter found in the header line".into(),
    })?;
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(delimiter != b'\x01')
        .has_headers(true)
        .from_reader(open(path)?))
}

/// The header names of a CSV reader, BOM stripped.
pub(crate) fn headers(
    reader: &mut csv::Reader<Box<dyn BufRead>>,
    label: &str,
) -> Result<Vec<String>, IngestError> {
    let headers = reader.headers().map_err(|source| IngestError::Csv {
        file: label.to_owned(),
        source,
    })?;
    Ok(headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_is_the_most_frequent_unquoted_separator() {
        assert_eq!(sniff_delimiter("a\x01b\x01c"), Some(b'\x01'));
        assert_eq!(sniff_delimiter("\"a,b\";c;d"), Some(b';'));
        assert_eq!(sniff_delimiter("a\tb,c\td"), Some(b'\t'));
        assert_eq!(sniff_delimiter("single"), None);
    }
}
