//! The same scenarios on the real AWS SDK against moto_server, which scripts/test.sh starts
//! (and names in OMNIDESK_MOTO_ENDPOINT). Without it these skip, unless
//! OMNIDESK_REQUIRE_MOTO is set, as the test script sets it.

omnidesk_tests::all_scenarios!(omnidesk_tests::Backend::moto());
