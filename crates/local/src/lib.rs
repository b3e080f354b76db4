//! Local stand-ins for Lambda and AWS, shared by the tests (through `costwatch_testkit`) and
//! `costwatch invoke`, the Docker-free `sam local invoke`: one emulator, one moto launcher.
//! std only, so the CLI links them without weight.

pub mod dynalite;
pub mod moto;
pub mod runtime_api;
