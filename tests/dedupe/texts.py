"""Invented news texts with a known structure, for the dedupe and story tests.

One wire story about a chemical plant fire in Harlow Creek (printed verbatim, trimmed and
re-headlined by three outlets), two outlets' own reports on the same fire in their own words, a
warehouse fire in Port Ellison told with much the same vocabulary (a different event: it must
stay apart), and two unrelated articles. All places, firms and people are invented.
"""

from __future__ import annotations

WIRE_TITLE = "Fire at Ohio chemical plant forces evacuation of 2,000 residents"
WIRE_TITLE_ALT = "Thousands flee as blaze tears through Harlow Creek chemical plant"
WIRE = [
    "HARLOW CREEK, Ohio (AP) — A fire that broke out late Tuesday at a chemical plant on the "
    "edge of Harlow Creek forced about 2,000 residents from their homes overnight, as "
    "firefighters worked to keep the flames away from tanks holding industrial solvents.",
    "The blaze started shortly after 10 p.m. in a storage building at the Verant Chemicals "
    "plant, according to Merritt County Fire Chief Dana Whitcomb. Three workers were taken to "
    "a hospital with burns and breathing problems, and one was in serious condition on "
    "Wednesday morning, she said.",
    "\u201cWe made the call to evacuate everyone within a mile of the plant because we could not "
    "rule out a release of toxic vapors,\u201d Whitcomb told reporters at a briefing outside "
    "the fire station. \u201cThat order stays in place until the air monitoring tells us "
    "otherwise.\u201d",
    "Residents spent the night at Harlow Creek High School, where the Red Cross set up cots "
    "and handed out water. Some said they had been woken by police officers knocking on doors "
    "and had left without their medication or their pets.",
    "Verant Chemicals said in a statement that all 46 employees on the night shift had been "
    "accounted for and that it was cooperating with fire investigators. The company makes "
    "coatings and adhesives and has operated the plant since 1987.",
    "State environmental regulators said air samples taken near the plant overnight showed no "
    "dangerous levels of pollutants, but they asked people living downwind to keep windows "
    "closed. Two schools in the district canceled classes for the day.",
    "Mayor Luis Ocampo said the city would reopen the evacuated streets block by block once "
    "the fire department declared the site safe, possibly by Thursday. The cause of the fire "
    "was under investigation.",
]
WIRE_TRIMMED = WIRE[:-1]  # a paper that ran out of space drops the last paragraph

OWN_HARLOW_1_TITLE = "Harlow Creek families wait in school gym as plant fire smolders"
OWN_HARLOW_1 = [
    "Cots lined the gymnasium floor at Harlow Creek High School on Wednesday, where hundreds of "
    "people who fled their homes in the middle of the night waited for word on when they "
    "could go back.",
    "The evacuation began after flames engulfed a warehouse at Verant Chemicals shortly after "
    "10 p.m. Tuesday. Merritt County firefighters ordered everyone living within a mile of the "
    "plant to leave, fearing that the fire could reach tanks of solvents stored nearby.",
    "\u201cThey came down the street with a loudspeaker and told us to go now,\u201d said Maria "
    "Delgado, who lives four blocks from the plant with her two sons. \u201cI grabbed the kids "
    "and the dog. I did not even lock the door.\u201d",
    "Fire Chief Dana Whitcomb said three plant workers had been hurt, one of them seriously. "
    "She said crews had contained the blaze by dawn but that hot spots kept flaring inside "
    "the collapsed building.",
    "Mayor Luis Ocampo visited the shelter in the morning and promised residents regular "
    "updates. Officials said the evacuation order for the neighborhoods around Verant "
    "Chemicals would be lifted only after air tests came back clean.",
]

OWN_HARLOW_2_TITLE = "Verant Chemicals faced safety citations before Harlow Creek blaze"
OWN_HARLOW_2 = [
    "The Verant Chemicals plant where a fire forced the evacuation of Harlow Creek neighborhoods "
    "this week had been cited twice in the last three years for the way it stored flammable "
    "liquids, according to federal inspection records.",
    "Inspectors from the Occupational Safety and Health Administration fined the company "
    "$38,000 in 2022 after finding drums of solvent stacked against an electrical panel in the "
    "same warehouse where Tuesday\u2019s fire began, the records show.",
    "Merritt County Fire Chief Dana Whitcomb said it was too early to say what started the "
    "fire, which injured three employees. \u201cOur investigators will be on that site for "
    "days,\u201d she said. \u201cWe will follow the evidence.\u201d",
    "A Verant Chemicals spokesman, Greg Halvorsen, said the plant had corrected every problem "
    "that inspectors identified and that safety was the company\u2019s first priority. He "
    "declined to discuss the fire while the investigation continues.",
    "Harlow Creek Mayor Luis Ocampo said the city council would ask the state for a full "
    "review of the plant once residents were back in their homes.",
]

OTHER_FIRE_1_TITLE = "Warehouse fire in Port Ellison sends smoke over downtown"
OTHER_FIRE_1 = [
    "A fire at a warehouse on the Port Ellison waterfront sent thick black smoke over downtown "
    "on Wednesday afternoon, and officials told people in nearby apartment buildings to stay "
    "indoors with their windows shut.",
    "The fire began around 2 p.m. in a building leased by Castell Logistics, a shipping company "
    "that stores furniture and electronics for retailers, said Port Ellison Fire Marshal Ray "
    "Tennant. No one was inside when the roof caught fire, and no injuries were reported.",
    "\u201cIt is a big building full of cardboard and plastic, so it is going to burn for a "
    "while,\u201d Tennant said. \u201cOur priority is keeping it from spreading to the "
    "docks.\u201d",
    "Firefighters from four neighboring towns helped pour water on the warehouse from ladder "
    "trucks and a fireboat. Harbor Street and the ferry terminal were closed to traffic.",
    "Castell Logistics said in a statement that its employees had left the site safely. The "
    "cause of the fire was not yet known.",
]

OTHER_FIRE_2_TITLE = "Port Ellison warehouse blaze closes ferry terminal"
OTHER_FIRE_2 = [
    "Ferry service out of Port Ellison was suspended Wednesday as firefighters battled a stubborn "
    "blaze at a waterfront warehouse operated by Castell Logistics.",
    "Fire Marshal Ray Tennant said crews arrived within minutes of the first call, shortly "
    "after 2 p.m., but the fire had already spread through the roof. Smoke could be seen from "
    "across the bay.",
    "The warehouse was empty at the time, and nobody was hurt, Tennant said. City officials "
    "asked residents of the Harbor Street apartments to keep their windows closed until the "
    "smoke cleared.",
    "Castell Logistics, which moved into the building in 2019, said it was working with the "
    "fire department. Ferry passengers were told to expect delays into the evening while "
    "Harbor Street remained closed.",
]

UNRELATED_1_TITLE = "City council approves budget with more money for parks"
UNRELATED_1 = [
    "The city council approved a $412 million budget on Monday night that adds money for park "
    "maintenance and summer programs while holding property taxes steady for a third year.",
    "Council members voted 7 to 2 for the spending plan after a three-hour hearing in which "
    "residents asked for longer library hours and more crossing guards near schools.",
    "The budget sets aside $6 million to repair playgrounds and pools, and it pays for twelve "
    "new seasonal workers in the parks department. Library hours will stay the same.",
    "The two members who voted against the plan said the city was drawing too much from its "
    "reserves. The new budget takes effect on July 1.",
]

UNRELATED_2_TITLE = "Local bakery wins regional award for sourdough bread"
UNRELATED_2 = [
    "A family bakery that opened in a former hardware store six years ago has won first prize "
    "for sourdough bread at the regional baking championship.",
    "Owners Ines and Tomas Berglund said their starter came from Tomas\u2019s grandmother, who "
    "kept it alive for more than forty years on a farm in the north of Sweden.",
    "Judges praised the crust and the open crumb of the loaf, which the bakery sells only on "
    "weekends. The Berglunds said they would use the prize money to buy a second oven.",
    "Customers lined up around the block on Saturday morning after the news spread, and the "
    "bakery sold out before ten o\u2019clock.",
]


def text(paragraphs: list[str]) -> str:
    return "\n".join(paragraphs)
