/// Proleptic Gregorian wall-clock arithmetic on whole minutes, independent of any time zone.
///
/// A wall minute is the number of minutes since 1970-01-01 00:00 as a clock on the wall
/// reads it; the schedule's time zone maps wall minutes to instants (`CronSchedule`).
struct CivilMinute: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    init(wallMinute: Int) {
        let days = floorDivide(wallMinute, 1440)
        let rest = wallMinute - days * 1440
        let date = Civil.date(fromDays: days)
        self.init(year: date.year, month: date.month, day: date.day, hour: rest / 60, minute: rest % 60)
    }

    var wallMinute: Int {
        Civil.days(year: year, month: month, day: day) * 1440 + hour * 60 + minute
    }
}

enum Civil {
    /// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The Gregorian date of a day number (`civil_from_days`).
    static func date(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// 0 = Sunday … 6 = Saturday.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        let count = days(year: year, month: month, day: day)
        return ((count % 7) + 7 + 4) % 7
    }
}

func floorDivide(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// The lowest set bit at or above `from`, if any.
func firstBit(_ mask: UInt64, from: Int) -> Int? {
    guard from < 64 else { return nil }
    let rest = mask & (UInt64.max << UInt64(max(from, 0)))
    return rest == 0 ? nil : rest.trailingZeroBitCount
}

/// The highest set bit at or below `atOrBelow`, if any.
func lastBit(_ mask: UInt64, atOrBelow: Int) -> Int? {
    guard atOrBelow >= 0 else { return nil }
    let rest = atOrBelow >= 63 ? mask : mask & ((1 << UInt64(atOrBelow + 1)) - 1)
    return rest == 0 ? nil : 63 - rest.leadingZeroBitCount
}
