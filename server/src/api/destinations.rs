//! `GET /api/v1/destinations`: where a report can go, with the fingerprints reporters
//! can compare out of band.

use meldpunt_wire::reporter::DestinationView;
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};

use crate::App;

#[get("/destinations")]
fn list(app: &State<App>) -> Json<Vec<DestinationView>> {
    Json(
        app.destinations
            .all()
            .iter()
            .map(|d| DestinationView {
                name: d.destination.name.clone(),
                // The API has one text: Dutch, the bureau's own language, where there are two.
                description: d.description.in_language("nl").to_owned(),
                recipients: d
                    .destination
                    .recipients()
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
                fingerprint: d.destination.fingerprint(),
            })
            .collect(),
    )
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![list]
}
