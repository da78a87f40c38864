//! A small, incremental Server-Sent Events parser (the `text/event-stream` format of the HTML
//! standard), enough for the Beacon API's event stream.
//!
//! Bytes are pushed as they arrive, in chunks of any size; complete events come out. Lines end in
//! LF, CRLF or a lone CR (a CRLF split across two chunks counts once); a line starting with `:`
//! is a comment; `data:` lines accumulate (joined with LF); `event:` names the event; a blank line
//! dispatches it. `id:`, `retry:` and unknown fields are ignored. A leading UTF-8 byte-order mark
//! is skipped. An event still incomplete when the stream ends is dropped, as the standard says.

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The event type (`message` when the server named none).
    pub(crate) event: String,
    /// The data lines, joined with `\n`.
    pub(crate) data: String,
}

/// The stream broke the parser's size limit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("server-sent event larger than {limit} bytes")]
pub(crate) struct SseTooLarge {
    pub(crate) limit: usize,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Incremental parser state.
#[derive(Debug)]
pub(crate) struct SseParser {
    /// Bytes of the current, unterminated line.
    line: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    /// The previous chunk ended in CR: an LF first in the next chunk belongs to it.
    after_cr: bool,
    /// Still at the start of the stream, where a byte-order mark may be.
    at_start: bool,
    max_event_bytes: usize,
}

impl SseParser {
    /// A parser that refuses events (or lines) larger than `max_event_bytes`.
    pub(crate) fn new(max_event_bytes: usize) -> Self {
        Self {
            line: Vec::new(),
            event: String::new(),
            data: String::new(),
            has_data: false,
            after_cr: false,
            at_start: true,
            max_event_bytes,
        }
    }

    /// Feeds a chunk; complete events are appended to `out`.
    ///
    /// After an error the parser's state is unspecified; the stream should be dropped.
    pub(crate) fn push(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<SseEvent>,
    ) -> Result<(), SseTooLarge> {
        let mut rest = chunk;
        if self.at_start {
            // Hold bytes back until it is clear whether they start with a byte-order mark.
            self.line.extend_from_slice(rest);
            if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
                return Ok(());
            }
            self.at_start = false;
            let pending = std::mem::take(&mut self.line);
            let body = pending.strip_prefix(BOM).unwrap_or(&pending);
            return self.push_lines(body, out);
        }
        if self.after_cr && !rest.is_empty() {
            // Only a byte decides whether the CR was the first half of a CRLF.
            self.after_cr = false;
            if let Some(after) = rest.strip_prefix(b"\n") {
                rest = after;
            }
        }
        self.push_lines(rest, out)
    }

    fn push_lines(&mut self, mut rest: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseTooLarge> {
        while let Some(end) = rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.line.extend_from_slice(&rest[..end]);
            self.check_size()?;
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out)?;
            let terminator = rest[end];
            rest = &rest[end + 1..];
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.line.extend_from_slice(rest);
        self.check_size()
    }

    fn check_size(&self) -> Result<(), SseTooLarge> {
        if self.line.len().saturating_add(self.data.len()) > self.max_event_bytes {
            return Err(SseTooLarge {
                limit: self.max_event_bytes,
            });
        }
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseTooLarge> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.first() == Some(&b':') {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&String::from_utf8_lossy(value));
                self.has_data = true;
                self.check_size()?;
            }
            // `id`, `retry` and unknown fields: nothing the Beacon API needs.
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        let data = std::mem::take(&mut self.data);
        if std::mem::take(&mut self.has_data) {
            out.push(SseEvent {
                event: if event.is_empty() {
                    "message".to_owned()
                } else {
                    event
                },
                data,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new(1 << 20);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut out).unwrap();
        }
        out
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.to_owned(),
            data: data.to_owned(),
        }
    }

    #[test]
    fn parses_named_events_with_lf_endings() {
        let out =
            parse_chunks(&[b"event: head\ndata: {\"slot\":\"1\"}\n\nevent: block\ndata: x\n\n"]);
        assert_eq!(out, vec![ev("head", "{\"slot\":\"1\"}"), ev("block", "x")]);
    }

    #[test]
    fn handles_crlf_and_lone_cr() {
        let out = parse_chunks(&[b"event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r"]);
        assert_eq!(out, vec![ev("a", "1"), ev("b", "2")]);
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let out = parse_chunks(&[b"event: a\r", b"\ndata: 1\r", b"\n\r", b"\n"]);
        assert_eq!(out, vec![ev("a", "1")]);
    }

    #[test]
    fn an_empty_chunk_between_cr_and_lf_does_not_split_the_crlf() {
        let out = parse_chunks(&[b": c\nevent: a\r", b"", b"\ndata: 1\n\n"]);
        assert_eq!(out, vec![ev("a", "1")]);
    }

    #[test]
    fn byte_by_byte_equals_all_at_once() {
        let stream = b"\xEF\xBB\xBF: hello\r\nevent: head\r\ndata: a\r\ndata: b\r\n\r\n";
        let whole = parse_chunks(&[stream]);
        let singles: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse_chunks(&singles), whole);
        assert_eq!(whole, vec![ev("head", "a\nb")]);
    }

    #[test]
    fn comments_ids_retries_and_unknown_fields_are_ignored() {
        let out =
            parse_chunks(&[b": keep-alive\n\nid: 5\nretry: 100\nfoo: bar\nevent: x\ndata\n\n"]);
        assert_eq!(out, vec![ev("x", "")]);
    }

    #[test]
    fn events_without_data_are_not_dispatched_and_default_type_is_message() {
        let out = parse_chunks(&[b"event: lonely\n\ndata:no-space\n\n"]);
        assert_eq!(out, vec![ev("message", "no-space")]);
    }

    #[test]
    fn an_unterminated_event_is_not_dispatched() {
        let out = parse_chunks(&[b"event: head\ndata: 1\n"]);
        assert!(out.is_empty());
    }

    #[test]
    fn only_one_leading_space_is_stripped_and_colons_stay_in_values() {
        let out = parse_chunks(&[b"data:  two spaces: yes\n\n"]);
        assert_eq!(out, vec![ev("message", " two spaces: yes")]);
    }

    #[test]
    fn a_bom_split_across_chunks_is_skipped_and_a_partial_bom_is_data() {
        let out = parse_chunks(&[b"\xEF", b"\xBB", b"\xBFdata: 1\n\n"]);
        assert_eq!(out, vec![ev("message", "1")]);
        let out = parse_chunks(&[b"\xEFdata: 1\n\ndata: 2\n\n"]);
        assert_eq!(out, vec![ev("message", "2")]);
    }

    #[test]
    fn refuses_oversized_lines_and_events() {
        let mut parser = SseParser::new(16);
        let mut out = Vec::new();
        assert!(parser.push(&[b'a'; 64], &mut out).is_err());
        let mut parser = SseParser::new(16);
        let many = b"data: 0123456\ndata: 0123456\ndata: 0123456\n".as_slice();
        assert!(parser.push(many, &mut out).is_err());
    }

    #[derive(Clone, Debug)]
    struct Case {
        events: Vec<(String, Vec<String>)>,
        endings: Vec<&'static str>,
        comments: Vec<bool>,
    }

    fn case() -> impl Strategy<Value = Case> {
        let event = (
            "[a-z_]{1,12}",
            proptest::collection::vec("[^\r\n]{0,20}", 1..4),
        );
        (
            proptest::collection::vec(event, 0..6),
            proptest::collection::vec(prop_oneof![Just("\n"), Just("\r\n"), Just("\r")], 64),
            proptest::collection::vec(any::<bool>(), 64),
        )
            .prop_map(|(events, endings, comments)| Case {
                events,
                endings,
                comments,
            })
    }

    fn render(case: &Case) -> Vec<u8> {
        let mut s = String::new();
        let mut n = 0usize;
        let mut end = |s: &mut String| {
            let mut ending = case.endings[n % case.endings.len()];
            // A lone CR followed by a lone LF reads as one CRLF: that rendering would mean
            // something else, so it is not a rendering of this case.
            if ending == "\n" && s.ends_with('\r') {
                ending = "\r";
            }
            s.push_str(ending);
            n += 1;
        };
        for (i, (name, lines)) in case.events.iter().enumerate() {
            if case.comments[i % case.comments.len()] {
                s.push_str(": comment");
                end(&mut s);
            }
            s.push_str("event: ");
            s.push_str(name);
            end(&mut s);
            for line in lines {
                s.push_str("data: ");
                s.push_str(line);
                end(&mut s);
            }
            end(&mut s);
        }
        s.into_bytes()
    }

    proptest! {
        #[test]
        fn round_trips_through_any_chunking(case in case(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
            let bytes = render(&case);
            let mut positions: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            positions.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for p in positions {
                chunks.push(&bytes[start..p]);
                start = p;
            }
            chunks.push(&bytes[start..]);
            let expected: Vec<SseEvent> = case
                .events
                .iter()
                .map(|(name, lines)| ev(name, &lines.join("\n")))
                .collect();
            prop_assert_eq!(parse_chunks(&chunks), expected);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8)) {
            let mut parser = SseParser::new(256);
            let mut out = Vec::new();
            for chunk in &chunks {
                if parser.push(chunk, &mut out).is_err() {
                    break;
                }
            }
        }
    }
}
