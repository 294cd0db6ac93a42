//! What the integration tests compare between our world dylib and upstream's.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use wasmparser::{Parser, Payload, TypeRef};

/// What must match between two libraries.
pub struct Summary {
    /// `module name: type`.
    pub imports: BTreeSet<String>,
    /// The same, in the order of the import section, which fixes the
    /// function and global indices.
    pub import_order: Vec<String>,
    /// `name: type`.
    pub exports: BTreeSet<String>,
    /// How many core results each exported function has, by name.
    func_results: BTreeMap<String, usize>,
    pub dylink: Vec<u8>,
    pub data: Vec<u8>,
}

impl Summary {
    pub fn of(wasm: &[u8]) -> Result<Summary> {
        let mut types = Vec::new();
        let mut funcs = Vec::new();
        let mut import_order = Vec::new();
        let mut exports = Vec::new();
        let mut dylink = Vec::new();
        let mut data = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::TypeSection(reader) => {
                    for ty in reader.into_iter_err_on_gc_types() {
                        let ty = ty?;
                        types.push((format!("{ty}"), ty.results().len()));
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import?;
                        let ty = match import.ty {
                            TypeRef::Func(i) => {
                                funcs.push(i);
                                types[i as usize].0.clone()
                            }
                            other => format!("{other:?}"),
                        };
                        import_order.push(format!("{} {}: {ty}", import.module, import.name));
                    }
                }
                Payload::FunctionSection(reader) => {
                    for f in reader {
                        funcs.push(f?);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export?;
                        exports.push((export.name.to_string(), export.kind, export.index));
                    }
                }
                Payload::CustomSection(c) if c.name() == "dylink.0" => dylink = c.data().to_vec(),
                Payload::DataSection(reader) => {
                    for segment in reader {
                        data.extend_from_slice(segment?.data);
                    }
                }
                _ => {}
            }
        }
        let mut func_results = BTreeMap::new();
        let exports = exports
            .into_iter()
            .map(|(name, kind, index)| {
                let ty = match kind {
                    wasmparser::ExternalKind::Func => {
                        let (ty, results) = &types[funcs[index as usize] as usize];
                        func_results.insert(name.clone(), *results);
                        ty.clone()
                    }
                    other => format!("{other:?}"),
                };
                format!("{name}: {ty}")
            })
            .collect();
        Ok(Summary {
            imports: import_order.iter().cloned().collect(),
            import_order,
            exports,
            func_results,
            dylink,
            data,
        })
    }

    /// Fails, listing the differences, unless both libraries import the
    /// same names with the same core types in the same order, and export the
    /// same, except for the post-returns we leave out: an export that
    /// returns at most one flat value may end its call before it returns
    /// (docs/abi.md §6.2), and then has none.
    pub fn same_imports_and_exports(&self, theirs: &Summary) -> Result<()> {
        diff("imports", &self.imports, &theirs.imports)?;
        let left_out = theirs
            .exports
            .difference(&self.exports)
            .filter(|export| theirs.post_return_of_flat_export(export))
            .cloned()
            .collect::<BTreeSet<_>>();
        let expected = theirs.exports.difference(&left_out).cloned().collect();
        diff("exports", &self.exports, &expected)?;
        if self.import_order != theirs.import_order {
            bail!("the same imports, in another order");
        }
        Ok(())
    }

    /// Whether `export` (`name: type`) is the post-return of an export that
    /// returns at most one flat value.
    fn post_return_of_flat_export(&self, export: &str) -> bool {
        let name = export.split_once(": ").map_or(export, |(name, _)| name);
        name.strip_prefix("cabi_post_")
            .and_then(|func| self.func_results.get(func))
            .is_some_and(|&results| results <= 1)
    }
}

fn diff(what: &str, ours: &BTreeSet<String>, theirs: &BTreeSet<String>) -> Result<()> {
    let missing: Vec<_> = theirs.difference(ours).collect();
    let extra: Vec<_> = ours.difference(theirs).collect();
    if !missing.is_empty() || !extra.is_empty() {
        bail!("{what} differ:\n  missing: {missing:#?}\n  extra: {extra:#?}");
    }
    Ok(())
}
