//! Integration tests for siptls-certgen, built as one test binary so the
//! helpers in `support` are shared without duplication.

mod cli;
mod pki;
mod support;
