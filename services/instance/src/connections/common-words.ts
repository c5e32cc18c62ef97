// Words that tell nothing of whose anything is (parts.ts): function words,
// left out of a text's words before its phrases are made, and common words,
// which are no part alone (a calendar's "meeting", a reply's "tomorrow") but
// stay in the phrases they make. English at length: some 1,500 everyday
// words, and none of health, law or faith, which tell something alone
// ("chemo", "divorce"). For Spanish, Portuguese, French, Italian and German:
// their function words, and the words of days and plans. A word of one
// letter is never a part, in any language. Base forms: parts.ts reads
// "meetings", "booked" and "running" as "meeting", "book", "run".

const words = (s: string) => new Set(s.split(/\s+/).filter(Boolean));

/** Function words, in English, Spanish, Portuguese, French, Italian and German. */
export const FUNCTION_WORDS: ReadonlySet<string> = words(`
  a about above across after again against all almost along also although am among an and another any anybody
  anyone anything anyway are around as at be because been before behind being below beneath beside besides
  between beyond both but by can cannot could did do does doing done down during each either else enough even
  ever every few for from further had has have having he her here hers herself him himself his how however i
  if in inside instead into is it its itself just least less let lets like many may me might mine more most
  much must my myself neither nor not of off often on once only onto or other others otherwise ought our ours
  ourselves out outside over own per quite rather same shall she should since so some such than that the
  their theirs them themselves then there therefore these they this those though through throughout thus till
  to too toward towards under unless until up upon us very via was we were what whatever when whenever where
  whereas wherever whether which while who whoever whom whose why will with within without would yet you your
  yours yourself yourselves im ive id youre youve youll hes shes its were theyre dont doesnt didnt isnt arent
  wasnt werent wont cant couldnt shouldnt wouldnt
  de la el en lo le un et du au da di il em um no na ao os as se te me mi tu su es er zu im an ne ce ma ta sa si
  ou al ha ho ai ed cu ja ob so wo hi oh
  que los las del una uno unos unas por con para como más mas pero sus este esta esto estos estas ese esa eso
  esos esas entre cuando muy sin sobre también tambien hasta hay donde desde todo todos toda todas nos durante
  contra otro otra otros otras ante ellos ellas él ella mí mis tú tus nosotros nosotras vosotros usted ustedes
  está están estar ser son fue era muy así cual cuál quien quién porque
  não nao com uma umas pelo pela pelos pelas até ate isso isto aquilo depois mesmo aos seus suas quem nas você
  voce vocês voces eles elas essa esse essas esses num numa nem meu minha meus minhas teu tua nosso nossa
  dele dela deles delas aquele aquela também tambem está estão foi são
  les des une est pas pour qui dans sur avec par plus mais ses son sont aux cette comme ont été être etre tout
  toute tous toutes elle nous vous leur leurs ils elles mon ton mes tes notre votre nos vos lui fait chez
  aussi alors donc très tres sans sous vers
  che non per una con del della dei delle degli gli sono come più piu anche mio mia miei mie suo sua suoi sue
  loro questo questa questi queste quello quella nel nella negli nelle alla alle allo dal dalla dai sul sulla
  der die das und ist den dem des ein eine einer eines einem einen nicht mit sich auf für fur von sie ich wir
  ihr sind war auch als bei aus nach wie zum zur noch oder aber mein meine dein deine sein seine unser euer
  ihre ihren ihrem dass wenn über uber unter
`);

/** Common English words, base forms: everyday words, times and days, and what plans and replies are made of. */
export const COMMON_WORDS: ReadonlySet<string> = words(`
  today tomorrow yesterday tonight morning afternoon evening night noon midnight day days week weekend weekday
  month year hour minute second time date early late later soon now next last past previous upcoming ago
  daily weekly monthly yearly annual always never sometimes usually again already still
  monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
  january february march april june july august september october november december jan feb mar apr jun jul
  aug sep sept oct nov dec spring summer autumn fall winter
  am pm one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen twenty
  thirty forty fifty sixty hundred thousand million first second third fourth fifth last half quarter double
  single couple pair dozen several lot lots
  meeting meet call event appointment reminder remind schedule calendar agenda session sync standup
  review check checkup update plan planning lunch dinner breakfast brunch coffee tea drink party birthday
  anniversary holiday vacation trip travel flight hotel booking book reservation reserve conference workshop
  class lesson practice training workout gym run walk swim swimming yoga game match concert show movie film
  team office work job home house school room floor building street road avenue lane city town village place
  location address centre center park station airport gate terminal bus train taxi car bike ferry boat
  ticket tickets seat seats table menu restaurant cafe bar shop store market mall bakery pharmacy hospital
  clinic doctor dentist nurse museum beach sea river lake mountain hill bridge pier harbour harbor church
  library bank post hall entrance exit corner side front back top bottom inside outside north south east
  west central main old new big small little large long short high low great good bad best better nice fine
  happy free busy open closed available ready sure right wrong left true false full empty hot cold warm cool
  sunny rainy cloudy weather rain snow wind sun degree degrees
  people person man woman men women child children kid kids family friend friends mom mum dad mother father
  parent parents brother sister son daughter wife husband partner boss colleague guest guests everyone
  everybody someone somebody something nothing everything nobody group member members
  thing things way life world hand part case point number problem fact question answer idea reason result
  kind sort type example name word words story news note notes list message email mail phone text chat link
  photo picture video song music book page letter card gift present money price cost budget total bill
  payment euro euros dollar dollars pound pounds cent cents percent
  be have do say get make go know take see come think look want give use find tell ask work seem feel try
  leave call need keep let begin start help show hear play move live believe bring happen write provide sit
  stand lose pay include continue set learn change lead understand watch follow stop create speak read allow
  add spend grow open walk win offer remember love consider appear buy wait serve die send expect build stay
  cut reach remain suggest raise pass sell require report decide pull return explain hope develop carry break
  receive agree support hit produce eat cover catch draw choose cause point listen realize place close sign
  visit share post confirm cancel move book rebook reschedule arrive depart land pick drop join bring pack
  plan organize order pay split vote like prefer enjoy miss forget remind tell thank thanks please sorry
  welcome hello hi hey bye goodbye yes yeah yep no nope ok okay sure great awesome perfect cool fine done
  added booked moved cancelled canceled confirmed updated sent shared posted noted
  about area art away bed bit blue body box car care case chance city clear club color colour common company
  control course cup dark deal detail difference door dress drive east easy edge effect end energy enough
  entire even evening exactly experience eye face fast feeling field figure final finish fire fish fit floor
  flower fly food foot force form forward friend fruit fun game garden gas girl glass gold green ground guy
  hair hand hard head health heart heat heavy help history hold hole hour huge ice important information
  interest island issue item key kitchen land language late laugh law lay lead learn least level light line
  little local lose loud low luck machine major mark matter maybe mean meat middle might mind minute model
  moment most mouth music near nearly neck need never nice nose notice object ocean office often oil order
  other page paper pass path pay peace pen per perhaps period pet piece plant plate play plus pool poor
  possible power pretty private problem program public pull purpose push quick quiet quite race radio rate
  real really record red relax rest rich ride ring rock roll rule safe salt sand save say school score seat
  second seem sense serious service shape sharp shirt shoe shoes short shoulder side sight sign silver simple
  size skin sky sleep slow smile soft soon sound soup space special speed spend spot square staff stage star
  state step stick stone straight strange strong student study stuff style sugar suit summer sweet system
  take talk tall taste teacher tell term test thank thick thin think though thought tire tired together top
  touch tour town track trade tree true turn under unit usual value various view wall war wash waste watch
  water wave way wear week weight well wet wheel white whole wide wild window wine wish woman wonder wood
  word world worry write year yellow young
  able active actual actually alone amazing angry basic beautiful certain cheap clean complete correct crazy
  current dear different difficult dry due easy enjoy entire exact excellent extra fair familiar famous fancy
  favorite favourite fresh friendly funny general glad gentle huge human ideal kind known lovely lucky main
  modern natural nearby necessary normal obvious official perfect personal plain pleasant popular positive
  present proper quick quiet rare recent regular responsible safe serious similar simple slow smart soft
  special strong sudden super sweet terrible tiny total typical usual useful various warm weird whole wonderful
  also almost already especially exactly finally just maybe nearly often perhaps probably quickly really
  simply soon still together usually
  steps rate hours minutes miles kilometres kilometers km kg lbs
  dr st mr mrs ms rd ave hr min sec tv ok uk eu usa tbd asap fyi eta rsvp
  1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th 11th 12th 13th 14th 15th 16th 17th 18th 19th 20th 21st 22nd 23rd
  24th 25th 26th 27th 28th 29th 30th 31st
  account act action activity age air animal apartment apple arm army article artist attack attention
  audience author baby bag ball band bath battle beach bean bear beer bell bill bird board boat bone
  border bottle boy brain bread brother budget bus business button cake camera camp capital captain
  card career cat cell chair chairman champion character charge chart cheese chicken chief choice circle
  citizen claim client clock cloth clothes cloud coach coast coat code coffee college community computer
  concern condition contract conversation cook copy cost council country county court cousin cow crew 
  crowd culture customer cycle damage dance danger daughter decision degree department design desk
  device dinner direction director discussion dish doctor dog dollar drama dream driver duty
  earth economy edition editor education egg election element emergency employee end enemy engine engineer
  environment episode equipment error evidence exam exercise expert eye factory failure fan farm farmer fashion
  fear feature fee festival fight file finger firm flag flat flight floor focus football forest fork frame
  friend front fuel fund furniture future gallery gap gate gift glass goal god grade grass guard guest guide
  gun habit half hall hat height hero highway holiday horse host hospital hotel household housing husband
  image income industry insurance internet interview investment iron jacket joke journey judge juice
  jury key king kitchen knife knowledge lab lady lake lawyer leader leg lesson letter license lift limit
  list living loan lock loss lunch machine magazine manager map master material meal meaning measure
  memory metal method milk mirror mission mistake mix mom moon morning mother motor mountain mouse
  movie museum nation neighbor neighbour network newspaper night noise north novel nurse offer officer oil
  opinion option orange owner paint painting pair palace panel parent parking partner party passenger
  passport pattern payment pen pepper performance permission phase phone physics piano
  picture pie pilot pink pizza planet plastic player pocket poem poet police policy politics pool population
  port position pot potato powder practice president press pressure prince prize process product
  profession professor profit project property proposal protest pub quality queen rain range reader recipe
  region relation relationship rent repair reply research resident resource response restaurant
  revenue rice risk river road role roof root round route row salad salary sale sample sandwich scene science
  screen season secret secretary section sector security seed series session shelf ship shop shower signal
  singer sister site skill sleep smoke snow society sock soldier son song source speech spirit sport stadium
  standard station statement status stock storage store storm strategy stream strength stress
  structure student studio subject success suggestion sun supply surface survey table tank target task tax
  taxi tea teacher technology telephone temperature tennis tent text theatre theater theory thread
  ticket title toe toilet tomato tone tongue tool topic towel tower toy traffic trail trainer
  transport trash tree trial truck trust truth tube tv uncle union university user vacation van vegetable
  vehicle version video village visitor voice volume vote wage waiter wallet wedding west wheel wife
  wind wing winner winter witness worker writer yard youth zone
  accept admit afford arrange attend avoid borrow calm celebrate clean climb collect compare complain connect
  contact cook count cross cry delay deliver describe design dig discuss dress drink earn enter escape
  exchange fail fill fix fold greet guess hang hate hide hire hurry imagine improve invite join jump kick
  knock laugh lend lie lift limit lock mention mix name note notice obtain own pack paint park pick plan pour
  pray prepare press print prove publish punch rent repair repeat replace reply request rescue ride ring rise
  rush save search shout sing smell solve sort spell splash sport spread steal stretch suffer supply surprise
  swing switch taste teach tear thank throw tie tour train travel treat type vote wake warn wash wave wear
  weigh whisper wipe wonder worry wrap yell
  game games night nights sorted shared lease badge desk registration package delivered steep castle
  vaccine vaccines square tram crowded itinerary passport
  hoy mañana manana ayer semana mes año ano día dia noche tarde cena comida almuerzo desayuno reunión reunion
  cita fiesta viaje vuelo hotel casa trabajo escuela hora horas lunes martes miércoles miercoles jueves
  viernes sábado sabado domingo nueve ocho diez once doce restaurante museo cierra abre gracias hola vale
  aujourd demain hier semaine soir matin dîner diner déjeuner dejeuner réunion rendez vous voyage travail
  maison lundi mardi mercredi jeudi vendredi samedi dimanche merci bonjour
  hoje amanhã amanha ontem jantar almoço almoco reunião viagem trabalho segunda terça quarta quinta sexta
  sábado domingo obrigado obrigada
  oggi domani ieri settimana sera mattina cena pranzo colazione riunione viaggio lavoro lunedì martedì
  mercoledì giovedì venerdì sabato domenica grazie ciao
  heute morgen gestern woche abend abendessen mittagessen frühstück fruhstuck treffen termin reise arbeit
  montag dienstag mittwoch donnerstag freitag samstag sonntag danke hallo
`);
