//! What the integration tests compare between our world dylib and upstream's.

use std::collections::BTreeSet;

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
                        types.push(format!("{}", ty?));
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import?;
                        let ty = match import.ty {
                            TypeRef::Func(i) => {
                                funcs.push(i);
                                types[i as usize].clone()
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
        let exports = exports
            .into_iter()
            .map(|(name, kind, index)| {
                let ty = match kind {
                    wasmparser::ExternalKind::Func => types[funcs[index as usize] as usize].clone(),
                    other => format!("{other:?}"),
                };
                format!("{name}: {ty}")
            })
            .collect();
        Ok(Summary {
            imports: import_order.iter().cloned().collect(),
            import_order,
            exports,
            dylink,
            data,
        })
    }

    /// Fails, listing the differences, unless both libraries import and
    /// export the same names with the same core types, the imports in the
    /// same order.
    pub fn same_imports_and_exports(&self, theirs: &Summary) -> Result<()> {
        diff("imports", &self.imports, &theirs.imports)?;
        diff("exports", &self.exports, &theirs.exports)?;
        if self.import_order != theirs.import_order {
            bail!("the same imports, in another order");
        }
        Ok(())
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
