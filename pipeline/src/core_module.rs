//! Rewriting a core module section by section: what the snapshot's clean-up
//! ([`crate::prune`], [`crate::segments`]) changes is one or two sections;
//! the others are copied as they are.

use std::ops::Range;

use anyhow::Result;
use wasm_encoder::{Module, RawSection};
use wasmparser::Parser;

/// Every section of `module` as (id, byte range of its contents), in order.
pub fn sections(module: &[u8]) -> Result<Vec<(u8, Range<usize>)>> {
    let mut sections = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Some((id, range)) = payload?.as_section() {
            sections.push((id, bytes(range)));
        }
    }
    Ok(sections)
}

/// A byte range of a module held in memory.
pub fn bytes(range: Range<u64>) -> Range<usize> {
    range.start as usize..range.end as usize
}

/// `module` with each section of `sections` (from [`sections`]) either
/// written anew by `replace`, which then returns `true`, or copied.
pub fn rewrite(
    module: &[u8],
    sections: &[(u8, Range<usize>)],
    mut replace: impl FnMut(u8, &mut Module) -> bool,
) -> Vec<u8> {
    let mut out = Module::new();
    for (id, range) in sections {
        if !replace(*id, &mut out) {
            out.section(&RawSection {
                id: *id,
                data: &module[range.clone()],
            });
        }
    }
    out.finish()
}
