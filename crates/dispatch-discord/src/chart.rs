//! The report's chart as a PNG: Discord shows PNG, JPEG, GIF and WebP as an embed image, not
//! SVG. Horizontal bars, one pair per top service in the embed's "Top services" order: this
//! period (blue) over the previous one (grey), scaled to the largest. Labels and amounts are in
//! the embed beside it. The encoder is the PNG format's minimum (IHDR, one zlib IDAT, IEND) on
//! flate2, which the workspace already has, rather than an image library for a few rectangles.

use std::io::Write;

use costwatch_core::money::to_f64;
use costwatch_core::notification::ReportFigures;
use flate2::Crc;
use flate2::write::ZlibEncoder;

const WIDTH: u32 = 640;
const ROW: u32 = 44;
const MARGIN: u32 = 16;
const BACKGROUND: [u8; 3] = [0x2B, 0x2D, 0x31];
const CURRENT: [u8; 3] = [0x58, 0x65, 0xF2];
const PREVIOUS: [u8; 3] = [0x8A, 0x8F, 0x98];

/// The chart of `report`'s top services, or `None` when there is nothing to draw.
pub fn report_png(report: &ReportFigures) -> Option<Vec<u8>> {
    let bars: Vec<(f64, f64)> = report
        .top_services
        .iter()
        .take(10)
        .map(|m| (to_f64(m.amount).max(0.0), to_f64(m.previous).max(0.0)))
        .collect();
    let largest = bars.iter().map(|(a, b)| a.max(*b)).fold(0.0, f64::max);
    if bars.is_empty() || largest <= 0.0 {
        return None;
    }
    let height = 2 * MARGIN + ROW * bars.len() as u32;
    let mut canvas = Canvas::new(WIDTH, height);
    let span = f64::from(WIDTH - 2 * MARGIN);
    for (i, (current, previous)) in bars.iter().enumerate() {
        let top = MARGIN + ROW * i as u32;
        let length = |v: f64| ((v / largest) * span).round().max(1.0) as u32;
        canvas.fill(MARGIN, top + 4, length(*current), 18, CURRENT);
        canvas.fill(MARGIN, top + 24, length(*previous), 12, PREVIOUS);
    }
    Some(canvas.png())
}

struct Canvas {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Self {
        let rgb = BACKGROUND.repeat((width * height) as usize);
        Self { width, height, rgb }
    }

    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, color: [u8; 3]) {
        for row in y..(y + h).min(self.height) {
            for col in x..(x + w).min(self.width) {
                let at = ((row * self.width + col) * 3) as usize;
                self.rgb[at..at + 3].copy_from_slice(&color);
            }
        }
    }

    /// 8-bit RGB, no interlace; each scanline with filter type 0.
    fn png(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(self.rgb.len() + self.height as usize);
        for line in self.rgb.chunks(self.width as usize * 3) {
            raw.push(0);
            raw.extend_from_slice(line);
        }
        let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        let _ = z.write_all(&raw);
        let idat = z.finish().unwrap_or_default();
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&self.width.to_be_bytes());
        ihdr.extend_from_slice(&self.height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &idat);
        chunk(&mut out, b"IEND", &[]);
        out
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_is_well_formed_and_draws_the_bars() {
        let report = match costwatch_core::samples::of_kind("report").body {
            costwatch_core::NotificationBody::Report(f) => f,
            _ => panic!("the report sample"),
        };
        let png = report_png(&report).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), WIDTH);
        // Every chunk's CRC is right (a viewer rejects the file otherwise).
        let mut at = 8;
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let mut crc = Crc::new();
            crc.update(&png[at + 4..at + 8 + len]);
            let stored = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc.sum(), stored);
            at += 12 + len;
        }
        assert_eq!(at, png.len());
        // The pixels: the current bar's colour is drawn.
        let idat_start = png.windows(4).position(|w| w == b"IDAT").unwrap() + 4;
        let idat_len =
            u32::from_be_bytes(png[idat_start - 8..idat_start - 4].try_into().unwrap()) as usize;
        let mut raw = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(&png[idat_start..idat_start + idat_len]),
            &mut raw,
        )
        .unwrap();
        assert!(raw.windows(3).any(|p| p == CURRENT));
        let mut empty = report.clone();
        empty.top_services.clear();
        assert!(report_png(&empty).is_none());
    }
}
