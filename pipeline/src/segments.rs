//! A snapshot's memory, cut into data segments again.
//!
//! Wizer writes one active segment per run of non-zero bytes, merges runs
//! at most 4 zero bytes apart, and then, to stay under 10,000 segments,
//! merges the closest ones, zeros between them included. A Lua heap is
//! mostly small objects full of zero bytes (null pointers, the high bytes
//! of small numbers): in a large snapshot the merging left more than half of
//! the segments' bytes zero. [`recut`] cuts the same memory where a run of
//! zeros costs more than a segment's header and, past 100,000 segments,
//! joins the closest ones.
//!
//! Only a module that defines its memory and initialises it with active
//! segments at constant offsets, as wizer's snapshot does, is cut: it is
//! instantiated before any module that imports that memory, so the zeros a
//! segment now covers were zeros in its image already.

use std::ops::Range;

use anyhow::{Context, Result};
use wasm_encoder::{ConstExpr, DataCountSection, DataSection};
use wasmparser::{DataKind, Operator, Parser, Payload, TypeRef};

use crate::core_module;

/// Zero bytes a segment may span rather than end: about what a segment's
/// header (kind, offset expression, length) costs.
const ZEROS_KEPT: usize = 8;

/// At most this many segments: the limit engines agree on (wasmparser, so
/// wasmtime, and V8 enforce it). The rewrites after this one add modules,
/// never segments to this one, so it needs no headroom, and every segment
/// spares a join, which would write zeros.
const MAX_SEGMENTS: usize = 100_000;

/// `module` with its data segments cut again, or `None` when it is not a
/// snapshot's memory or cutting saves nothing.
pub fn recut(module: &[u8]) -> Result<Option<Vec<u8>>> {
    let Some(image) = Image::read(module).context("reading a snapshot's data segments")? else {
        return Ok(None);
    };
    let runs = at_most(image.runs(ZEROS_KEPT), MAX_SEGMENTS);
    let mut data = DataSection::new();
    for run in &runs {
        // An i32 offset is unsigned in wasm; the encoder takes its bits.
        let offset = ConstExpr::i32_const(run.start as i32);
        data.active(0, &offset, image.bytes(run).iter().copied());
    }
    let sections = core_module::sections(module)?;
    let recut = core_module::rewrite(module, &sections, |id, out| match id {
        id if id == wasm_encoder::SectionId::Data as u8 => {
            out.section(&data);
            true
        }
        id if id == wasm_encoder::SectionId::DataCount as u8 => {
            out.section(&DataCountSection {
                count: runs.len() as u32,
            });
            true
        }
        _ => false,
    });
    Ok((recut.len() < module.len()).then_some(recut))
}

/// `runs` joined across their smallest gaps until at most `max` remain:
/// the fewest zero bytes written for that many segments.
fn at_most(runs: Vec<Range<u32>>, max: usize) -> Vec<Range<u32>> {
    if runs.len() <= max {
        return runs;
    }
    // Gap `i` lies between runs `i` and `i + 1`.
    let mut gaps: Vec<usize> = (0..runs.len() - 1).collect();
    gaps.sort_by_key(|&i| (runs[i + 1].start - runs[i].end, i));
    let mut joined = vec![false; runs.len() - 1];
    for &i in &gaps[..runs.len() - max] {
        joined[i] = true;
    }
    let mut out: Vec<Range<u32>> = Vec::with_capacity(max);
    for (i, run) in runs.into_iter().enumerate() {
        match out.last_mut() {
            Some(last) if joined[i - 1] => last.end = run.end,
            _ => out.push(run),
        }
    }
    out
}

/// A memory's initial contents: active segments at constant offsets,
/// sorted, each as (offset, bytes).
struct Image<'a> {
    segments: Vec<(u32, &'a [u8])>,
}

impl<'a> Image<'a> {
    /// The image of `module`'s own memory, or `None` if the module imports
    /// its memory or has any other kind of segment.
    fn read(module: &'a [u8]) -> Result<Option<Self>> {
        let mut segments = Vec::new();
        let mut defines_memory = false;
        for payload in Parser::new(0).parse_all(module) {
            match payload? {
                Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        if let TypeRef::Memory(_) = import?.ty {
                            return Ok(None);
                        }
                    }
                }
                Payload::MemorySection(memories) => defines_memory = memories.count() == 1,
                Payload::DataSection(data) => {
                    for segment in data {
                        let segment = segment?;
                        let DataKind::Active {
                            memory_index: 0,
                            offset_expr,
                        } = segment.kind
                        else {
                            return Ok(None);
                        };
                        let mut ops = offset_expr.get_operators_reader();
                        let (Operator::I32Const { value }, Operator::End) =
                            (ops.read()?, ops.read()?)
                        else {
                            return Ok(None);
                        };
                        let offset = value as u32;
                        if u64::from(offset) + segment.data.len() as u64 > u64::from(u32::MAX) {
                            return Ok(None);
                        }
                        segments.push((offset, segment.data));
                    }
                }
                _ => {}
            }
        }
        if !defines_memory || segments.is_empty() {
            return Ok(None);
        }
        segments.sort_by_key(|&(offset, _)| offset);
        let overlapping = segments
            .windows(2)
            .any(|pair| u64::from(pair[0].0) + pair[0].1.len() as u64 > u64::from(pair[1].0));
        Ok((!overlapping).then_some(Image { segments }))
    }

    /// The address ranges to write: the non-zero bytes, a range going on
    /// over up to `zeros_kept` zeros to the next.
    fn runs(&self, zeros_kept: usize) -> Vec<Range<u32>> {
        let mut runs: Vec<Range<u32>> = Vec::new();
        for &(offset, data) in &self.segments {
            let mut at = 0;
            while let Some(first) = data[at..].iter().position(|&b| b != 0) {
                let start = at + first;
                let end = data[start..]
                    .iter()
                    .position(|&b| b == 0)
                    .map_or(data.len(), |zero| start + zero);
                let range = offset + start as u32..offset + end as u32;
                match runs.last_mut() {
                    Some(last) if (range.start - last.end) as usize <= zeros_kept => {
                        last.end = range.end
                    }
                    _ => runs.push(range),
                }
                at = end;
            }
        }
        runs
    }

    /// The image's bytes in `range` (which a run never takes past the last
    /// segment's end).
    fn bytes(&self, range: &Range<u32>) -> Vec<u8> {
        let mut bytes = vec![0; (range.end - range.start) as usize];
        let first = self
            .segments
            .partition_point(|&(offset, data)| offset + data.len() as u32 <= range.start);
        for &(offset, data) in &self.segments[first..] {
            if offset >= range.end {
                break;
            }
            let from = range.start.max(offset);
            let to = range.end.min(offset + data.len() as u32);
            bytes[(from - range.start) as usize..(to - range.start) as usize]
                .copy_from_slice(&data[(from - offset) as usize..(to - offset) as usize]);
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory `module` starts with: its first `len` bytes.
    fn memory(module: &[u8], len: usize) -> Result<Vec<u8>> {
        let engine = wasmtime::Engine::default();
        let mut store = wasmtime::Store::new(&engine, ());
        let module = wasmtime::Module::new(&engine, module)?;
        let instance = wasmtime::Instance::new(&mut store, &module, &[])?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .context("no memory")?;
        Ok(memory.data(&store)[..len].to_vec())
    }

    fn segments(module: &[u8]) -> Result<usize> {
        for payload in Parser::new(0).parse_all(module) {
            if let Payload::DataSection(data) = payload? {
                return Ok(data.count() as usize);
            }
        }
        Ok(0)
    }

    #[test]
    fn the_same_memory_in_fewer_bytes() -> Result<()> {
        // Wizer's cut: three runs 6 zeros apart, one ending in the next
        // segment's range, and one far away.
        let module = wat::parse_str(
            r#"(module
                (memory (export "memory") 1)
                (data (i32.const 16) "\01\02\00\00\00\00\00\00\03")
                (data (i32.const 25) "\04\00\00\00\00\00\00\05\00\06")
                (data (i32.const 4000) "\07")
            )"#,
        )?;
        let recut = recut(&module)?.expect("a smaller cut");
        assert!(recut.len() < module.len());
        assert_eq!(segments(&recut)?, 2);
        assert_eq!(memory(&recut, 4096)?, memory(&module, 4096)?);
        Ok(())
    }

    #[test]
    fn a_memory_of_more_runs_than_segments_allowed_is_cut_at_the_limit() -> Result<()> {
        // One non-zero byte in every 16: a run each, two more than allowed.
        let runs = MAX_SEGMENTS + 2;
        let mut image = vec![0u8; runs * 16];
        for run in 0..runs {
            image[run * 16] = 1 + (run % 255) as u8;
        }
        let pages = image.len().div_ceil(65536);
        let mut module = wasm_encoder::Module::new();
        let mut memories = wasm_encoder::MemorySection::new();
        memories.memory(wasm_encoder::MemoryType {
            minimum: pages as u64,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&memories);
        let mut exports = wasm_encoder::ExportSection::new();
        exports.export("memory", wasm_encoder::ExportKind::Memory, 0);
        module.section(&exports);
        let mut data = DataSection::new();
        data.active(0, &ConstExpr::i32_const(0), image.iter().copied());
        module.section(&data);
        let module = module.finish();

        let recut = recut(&module)?.expect("a smaller cut");
        assert_eq!(segments(&recut)?, MAX_SEGMENTS);
        // wasmtime validates it, and it starts with the same memory.
        assert_eq!(memory(&recut, image.len())?, image);
        Ok(())
    }

    #[test]
    fn too_many_runs_are_joined_across_their_smallest_gaps() {
        let runs = vec![0..2, 10..12, 13..14, 30..31, 33..40];
        assert_eq!(at_most(runs.clone(), 5), runs);
        assert_eq!(at_most(runs.clone(), 3), vec![0..2, 10..14, 30..40]);
        assert_eq!(at_most(runs, 1), vec![0..40]);
    }

    #[test]
    fn only_a_module_that_owns_its_memory_is_cut() -> Result<()> {
        let imported = wat::parse_str(
            r#"(module
                (import "env" "memory" (memory 1))
                (data (i32.const 16) "\01\00\02")
                (data (i32.const 20) "\03")
            )"#,
        )?;
        assert!(recut(&imported)?.is_none());
        let passive = wat::parse_str(
            r#"(module
                (memory 1)
                (data "\01")
                (data (i32.const 16) "\01\00\02")
                (data (i32.const 20) "\03")
            )"#,
        )?;
        assert!(recut(&passive)?.is_none());
        Ok(())
    }
}
