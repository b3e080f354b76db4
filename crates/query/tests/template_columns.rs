//! The Glue table template.yaml creates declares exactly the columns the queries read, for each
//! export format: Athena cannot read a column the table does not declare, and the embedded
//! engine's tests would not notice one missing there.

use costwatch_query::{CUR2_COLUMNS, FOCUS_COLUMNS};
use costwatch_testkit::template::Template;
use serde_json::Value;

fn names(columns: &Value) -> Vec<String> {
    columns
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap().to_owned())
        .collect()
}

fn expected(columns: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = columns
        .iter()
        .filter(|c| **c != "billing_period")
        .map(|c| (*c).to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn the_glue_table_declares_the_queries_columns_for_cur2_and_focus() {
    let template = Template::load("template.yaml");
    let table = &template.body["Resources"]["DataExportsTable"]["Properties"]["TableInput"];
    assert_eq!(
        table["Name"],
        serde_json::json!({"Fn::If": ["DataExportsFocus", "focus", "cur2"]})
    );
    let partitions = names(&table["PartitionKeys"]);
    assert_eq!(partitions, ["billing_period"]);

    let choice = table["StorageDescriptor"]["Columns"]["Fn::If"]
        .as_array()
        .unwrap();
    assert_eq!(choice[0], "DataExportsFocus");
    let mut focus = names(&choice[1]);
    let mut cur2 = names(&choice[2]);
    focus.sort();
    cur2.sort();
    assert_eq!(focus, expected(FOCUS_COLUMNS));
    assert_eq!(cur2, expected(CUR2_COLUMNS));
}
