//! Detection, forecasting and budget evaluation over daily cost series; pure
