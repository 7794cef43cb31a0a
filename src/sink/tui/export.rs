//! Export from the UI: the selected frame's exact text, or the records of the rows the
//! filter lets through (JSON Lines, byte for byte as in the trace being viewed), to a file;
//! and the selected frame to the clipboard with the OSC 52 escape sequence. Reads what the
//! app holds and the trace file; judges nothing, changes no state.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::app::{App, Body, RowKind};
use super::store::ReadBackError;

/// Why nothing (or not everything) was exported; the status line shows it.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no frame selected")]
    NoSelection,
    #[error("line {0}: an event, no frame text")]
    NotAFrame(u64),
    #[error(transparent)]
    ReadBack(#[from] ReadBackError),
    #[error("no trace file to copy records from (export of the filtered set works in `view`)")]
    NoTraceFile,
    #[error("{}: line {line}: {source}", .path.display())]
    Read {
        path: PathBuf,
        line: u64,
        source: io::Error,
    },
    #[error("{}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Write {
        path: path.to_owned(),
        source,
    }
}

/// The escape sequence that asks the terminal to put `text` on the clipboard (OSC 52,
/// `c` selection, base64, ended by BEL). Terminals that do not support it ignore it.
pub fn osc52(text: &str) -> Vec<u8> {
    let mut out = b"\x1b]52;c;".to_vec();
    out.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(text)
            .as_bytes(),
    );
    out.push(0x07);
    out
}

/// The selected frame's exact text.
pub fn selected_text(app: &App) -> Result<String, ExportError> {
    let row = app.selected_frame().ok_or(ExportError::NoSelection)?;
    let text = app.text_of(&row)?;
    if text.is_empty() {
        return Err(ExportError::NotAFrame(row.line));
    }
    Ok(text.into_owned())
}

fn create(path: &Path) -> Result<BufWriter<std::fs::File>, ExportError> {
    std::fs::File::create(path)
        .map(BufWriter::new)
        .map_err(write_error(path))
}

/// Writes the selected frame's exact text to `path`; says what was written.
pub fn write_frame(app: &App, path: &Path) -> Result<String, ExportError> {
    let text = selected_text(app)?;
    let mut w = create(path)?;
    w.write_all(text.as_bytes())
        .and_then(|()| w.flush())
        .map_err(write_error(path))?;
    Ok(format!(
        "frame ({} bytes, exact) written to {}",
        text.len(),
        path.display()
    ))
}

/// Writes the trace records of the rows the filter lets through to `path`, one a line and
/// exactly as in the trace. Before a connection's first frame goes its latest `open` (so
/// the file is judged with the right version), unless the filter let it through already.
/// Rows with no record to copy (those the UI was fed live) are left out and counted in the
/// answer.
pub fn write_filtered(app: &App, path: &Path) -> Result<String, ExportError> {
    let Some(store) = app.store() else {
        return Err(ExportError::NoTraceFile);
    };
    let mut w = create(path)?;
    let (mut written, mut left_out) = (0_u64, 0_u64);
    let mut copied = std::collections::HashSet::new();
    let mut copy = |offset: u64, line: u64| -> Result<(), ExportError> {
        let record = store.line_at(offset).map_err(|source| ExportError::Read {
            path: store.path().to_owned(),
            line,
            source,
        })?;
        w.write_all(&record)
            .and_then(|()| w.write_all(b"\n"))
            .map_err(write_error(path))
    };
    for &pos in app.visible_frames().iter() {
        let Some(row) = app.frame(pos) else { continue };
        let offset = match row.body {
            Body::InTrace(o) => Some(o),
            _ => app.event_offset(row.seq),
        };
        let Some(offset) = offset else {
            left_out += 1;
            continue;
        };
        if row.kind == RowKind::Frame
            && let Some((seq, open)) = app.open_before(&row)
            && copied.insert(seq)
        {
            copy(open, 0)?;
            written += 1;
        }
        if copied.insert(row.seq) {
            copy(offset, row.line)?;
            written += 1;
        }
    }
    w.flush().map_err(write_error(path))?;
    let mut msg = format!("{written} records written to {}", path.display());
    if left_out > 0 {
        msg.push_str(&format!(
            " ({left_out} rows with no record to copy left out: fed live)"
        ));
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_the_escape_base64_and_bel() {
        assert_eq!(osc52("hi"), b"\x1b]52;c;aGk=\x07".to_vec());
        let s = osc52(r#"[2,"1","Heartbeat",{}]"#);
        assert!(s.starts_with(b"\x1b]52;c;") && s.ends_with(b"\x07"));
        let body = &s[7..s.len() - 1];
        let back = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        assert_eq!(back, br#"[2,"1","Heartbeat",{}]"#);
        assert!(!body.contains(&0x07) && !body.contains(&0x1b));
    }
}
