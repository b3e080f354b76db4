//! `element_at(map, key)` for the embedded engine, with Trino's meaning for maps: the value for
//! `key`, or null when the map lacks it. The queries read CUR 2.0's `product`, `resource_tags`
//! and `cost_category` maps with it, so the text Athena runs also runs here unchanged.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct ElementAt {
    signature: Signature,
}

pub(crate) fn element_at() -> ScalarUDF {
    ScalarUDF::new_from_impl(ElementAt {
        signature: Signature::any(2, Volatility::Immutable),
    })
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::Map(..)) => Ok(DataType::Utf8),
            other => exec_err!("element_at takes a map of strings, not {other:?}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [map, key] = args.args.as_slice() else {
            return exec_err!("element_at takes two arguments");
        };
        let key = match key {
            ColumnarValue::Scalar(s) => match s {
                ScalarValue::Utf8(k) | ScalarValue::Utf8View(k) | ScalarValue::LargeUtf8(k) => {
                    k.clone()
                }
                other => return exec_err!("element_at's key must be a string, not {other:?}"),
            },
            ColumnarValue::Array(_) => return exec_err!("element_at's key must be a constant"),
        };
        let maps = map.to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(lookup(&maps, key.as_deref())?))
    }
}

/// Per row, the value of the first entry whose key is `key`.
fn lookup(maps: &ArrayRef, key: Option<&str>) -> Result<ArrayRef> {
    let maps = maps.as_map();
    let keys = cast(maps.keys(), &DataType::Utf8)?;
    let values = cast(maps.values(), &DataType::Utf8)?;
    let (keys, values) = (keys.as_string::<i32>(), values.as_string::<i32>());
    let offsets = maps.value_offsets();
    let mut out = StringBuilder::with_capacity(maps.len(), 0);
    for row in 0..maps.len() {
        let found = match key {
            Some(key) if maps.is_valid(row) => (offsets[row]..offsets[row + 1])
                .map(|i| i as usize)
                .find(|&i| keys.is_valid(i) && keys.value(i) == key)
                .filter(|&i| values.is_valid(i))
                .map(|i| values.value(i)),
            _ => None,
        };
        out.append_option(found);
    }
    Ok(Arc::new(out.finish()))
}
