//! Readers that turn real cost data (Cost Explorer JSON, CUR Parquet/CSV, FOCUS CSV) into cost records
