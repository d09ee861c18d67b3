<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context>
    <name>ew::ui::AboutDialog</name>
    <message>
        <source>About Edgewise</source>
        <translation>Über Edgewise</translation>
    </message>
    <message>
        <source>&lt;p&gt;A workbench for inspecting, optimizing and deploying neural-network models.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Eine Werkbank zum Untersuchen, Optimieren und Ausrollen neuronaler Netze.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;Built with Qt %1, running on Qt %2 (%3).&lt;/p&gt;</source>
        <translation>&lt;p&gt;Erstellt mit Qt %1, läuft mit Qt %2 (%3).&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Bundled sample model&lt;/h3&gt;&lt;p&gt;&lt;b&gt;digits_cnn.onnx&lt;/b&gt; was made by the Edgewise team: a small CNN trained on scikit-learn&apos;s &lt;i&gt;load_digits&lt;/i&gt;, a copy of the UCI Optical Recognition of Handwritten Digits data set, licensed under &lt;a href=&quot;https://creativecommons.org/licenses/by/4.0/&quot;&gt;CC BY 4.0&lt;/a&gt; (E. Alpaydin, C. Kaynak).&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Mitgeliefertes Beispielmodell&lt;/h3&gt;&lt;p&gt;&lt;b&gt;digits_cnn.onnx&lt;/b&gt; stammt vom Edgewise-Team: ein kleines CNN, trainiert auf &lt;i&gt;load_digits&lt;/i&gt; aus scikit-learn, einer Kopie des UCI-Datensatzes „Optical Recognition of Handwritten Digits“, lizenziert unter &lt;a href=&quot;https://creativecommons.org/licenses/by/4.0/&quot;&gt;CC BY 4.0&lt;/a&gt; (E. Alpaydin, C. Kaynak).&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Third-party software&lt;/h3&gt;&lt;ul&gt;&lt;li&gt;Qt 6: LGPL-3.0&lt;/li&gt;&lt;li&gt;QCustomPlot: GPL-3.0&lt;/li&gt;&lt;li&gt;ONNX: Apache-2.0&lt;/li&gt;&lt;li&gt;Protocol Buffers: BSD-3-Clause&lt;/li&gt;&lt;li&gt;FlatBuffers: Apache-2.0&lt;/li&gt;&lt;li&gt;Eigen: MPL-2.0&lt;/li&gt;&lt;/ul&gt;</source>
        <translation>&lt;h3&gt;Software von Drittanbietern&lt;/h3&gt;&lt;ul&gt;&lt;li&gt;Qt 6: LGPL-3.0&lt;/li&gt;&lt;li&gt;QCustomPlot: GPL-3.0&lt;/li&gt;&lt;li&gt;ONNX: Apache-2.0&lt;/li&gt;&lt;li&gt;Protocol Buffers: BSD-3-Clause&lt;/li&gt;&lt;li&gt;FlatBuffers: Apache-2.0&lt;/li&gt;&lt;li&gt;Eigen: MPL-2.0&lt;/li&gt;&lt;/ul&gt;</translation>
    </message>
</context>
<context>
    <name>ew::ui::Format</name>
    <message>
        <source>unknown rank</source>
        <translation>unbekannter Rang</translation>
    </message>
</context>
<context>
    <name>ew::ui::LogPanel</name>
    <message>
        <source>debug</source>
        <translation>debug</translation>
    </message>
    <message>
        <source>info</source>
        <translation>info</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>warnung</translation>
    </message>
    <message>
        <source>error</source>
        <translation>fehler</translation>
    </message>
</context>
<context>
    <name>ew::ui::MainWindow</name>
    <message>
        <source>Edgewise</source>
        <translation>Edgewise</translation>
    </message>
    <message>
        <source>Overview</source>
        <translation>Übersicht</translation>
    </message>
    <message>
        <source>Ready. Open a model with File &gt; Open or drop one here.</source>
        <translation>Bereit. Öffnen Sie ein Modell mit Datei &gt; Öffnen oder ziehen Sie es hierher.</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>&amp;Öffnen…</translation>
    </message>
    <message>
        <source>Open an ONNX or TFLite model</source>
        <translation>Ein ONNX- oder TFLite-Modell öffnen</translation>
    </message>
    <message>
        <source>Open &amp;Sample Model</source>
        <translation>&amp;Beispielmodell öffnen</translation>
    </message>
    <message>
        <source>Open the bundled digits_cnn.onnx example</source>
        <translation>Das mitgelieferte Beispiel digits_cnn.onnx öffnen</translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation>Speichern &amp;unter…</translation>
    </message>
    <message>
        <source>Save the model to a new file</source>
        <translation>Das Modell in eine neue Datei speichern</translation>
    </message>
    <message>
        <source>&amp;Export to ONNX…</source>
        <translation>Als ONNX &amp;exportieren…</translation>
    </message>
    <message>
        <source>Write the model as an ONNX file</source>
        <translation>Das Modell als ONNX-Datei schreiben</translation>
    </message>
    <message>
        <source>&amp;Close Model</source>
        <translation>Modell &amp;schließen</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Clear Recent Files</source>
        <translation>Liste &amp;leeren</translation>
    </message>
    <message>
        <source>&amp;About Edgewise</source>
        <translation>&amp;Über Edgewise</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>Über &amp;Qt</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Properties</source>
        <translation>Eigenschaften</translation>
    </message>
    <message>
        <source>Model Summary</source>
        <translation>Modellübersicht</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Protokoll</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>&amp;Zuletzt geöffnet</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>Haupt</translation>
    </message>
    <message>
        <source>Models (%1)</source>
        <translation>Modelle (%1)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Open Model</source>
        <translation>Modell öffnen</translation>
    </message>
    <message>
        <source>Save Model As</source>
        <translation>Modell speichern unter</translation>
    </message>
    <message>
        <source>Export to ONNX</source>
        <translation>Als ONNX exportieren</translation>
    </message>
    <message>
        <source>ONNX models (*.onnx)</source>
        <translation>ONNX-Modelle (*.onnx)</translation>
    </message>
    <message>
        <source>Still busy; ignoring the request to open %1</source>
        <translation>Noch beschäftigt; %1 wird nicht geöffnet</translation>
    </message>
    <message>
        <source>Still busy; ignoring the request to save %1</source>
        <translation>Noch beschäftigt; %1 wird nicht gespeichert</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>%1 wird geladen…</translation>
    </message>
    <message>
        <source>Saving %1…</source>
        <translation>%1 wird gespeichert…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Opening Model</source>
        <translation>Modell wird geöffnet</translation>
    </message>
    <message>
        <source>Saving Model</source>
        <translation>Modell wird gespeichert</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <source>Stage: %1</source>
        <translation>Schritt: %1</translation>
    </message>
    <message>
        <source>Loading %1 was cancelled; the previous model stays open.</source>
        <translation>Laden von %1 abgebrochen; das bisherige Modell bleibt geöffnet.</translation>
    </message>
    <message>
        <source>Loading cancelled</source>
        <translation>Laden abgebrochen</translation>
    </message>
    <message>
        <source>Could not open %1</source>
        <translation>%1 konnte nicht geöffnet werden</translation>
    </message>
    <message>
        <source>Cannot Open Model</source>
        <translation>Modell kann nicht geöffnet werden</translation>
    </message>
    <message>
        <source>Could not open %1.</source>
        <translation>%1 konnte nicht geöffnet werden.</translation>
    </message>
    <message>
        <source>Opened %1</source>
        <translation>%1 geöffnet</translation>
    </message>
    <message>
        <source>Saving %1 was cancelled.</source>
        <translation>Speichern von %1 abgebrochen.</translation>
    </message>
    <message>
        <source>Cannot Save Model</source>
        <translation>Modell kann nicht gespeichert werden</translation>
    </message>
    <message>
        <source>Could not save %1.</source>
        <translation>%1 konnte nicht gespeichert werden.</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 gespeichert</translation>
    </message>
    <message>
        <source>%1 — Edgewise</source>
        <translation>%1 — Edgewise</translation>
    </message>
    <message numerus="yes">
        <source>%1 · %n node(s)</source>
        <translation>
            <numerusform>%1 · %n Knoten</numerusform>
            <numerusform>%1 · %n Knoten</numerusform>
        </translation>
    </message>
    <message>
        <source>Closed %1</source>
        <translation>%1 geschlossen</translation>
    </message>
    <message>
        <source>Selected %1 (%2)</source>
        <translation>%1 (%2) ausgewählt</translation>
    </message>
    <message>
        <source>(no recent files)</source>
        <translation>(keine zuletzt geöffneten Dateien)</translation>
    </message>
    <message>
        <source>Cannot Open Sample</source>
        <translation>Beispiel kann nicht geöffnet werden</translation>
    </message>
    <message>
        <source>Could not copy the sample model.</source>
        <translation>Das Beispielmodell konnte nicht kopiert werden.</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
</context>
<context>
    <name>ew::ui::NodeListPanel</name>
    <message>
        <source>Filter by name, op or shape…</source>
        <translation>Nach Name, Operator oder Form filtern…</translation>
    </message>
    <message>
        <source>No model open</source>
        <translation>Kein Modell geöffnet</translation>
    </message>
    <message numerus="yes">
        <source>%n node(s)</source>
        <translation>
            <numerusform>%n Knoten</numerusform>
            <numerusform>%n Knoten</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n node(s) match</source>
        <translation>
            <numerusform>%1 von %n Knoten passt</numerusform>
            <numerusform>%1 von %n Knoten passen</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ew::ui::NodeTableModel</name>
    <message>
        <source>A lower bound: symbolic or unknown dimensions are counted as 1.</source>
        <translation>Eine Untergrenze: symbolische oder unbekannte Dimensionen zählen als 1.</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Op</source>
        <translation>Operator</translation>
    </message>
    <message>
        <source>Output shapes</source>
        <translation>Ausgabeformen</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
</context>
<context>
    <name>ew::ui::OverviewPage</name>
    <message numerus="yes">
        <source>other (%n type(s))</source>
        <translation>
            <numerusform>sonstige (%n Typ)</numerusform>
            <numerusform>sonstige (%n Typen)</numerusform>
        </translation>
    </message>
    <message>
        <source>No model open</source>
        <translation>Kein Modell geöffnet</translation>
    </message>
    <message>
        <source>Open an ONNX or TFLite model with File &gt; Open (Ctrl+O), pick one from File &gt; Open Recent, or drop a model file onto this window.</source>
        <translation>Öffnen Sie ein ONNX- oder TFLite-Modell mit Datei &gt; Öffnen (Strg+O), wählen Sie eines unter Datei &gt; Zuletzt geöffnet oder ziehen Sie eine Modelldatei auf dieses Fenster.</translation>
    </message>
    <message>
        <source>Open Model…</source>
        <translation>Modell öffnen…</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>MACs per inference</source>
        <translation>MACs pro Inferenz</translation>
    </message>
    <message>
        <source>Weights in memory</source>
        <translation>Gewichte im Speicher</translation>
    </message>
    <message>
        <source>≥ marks a lower bound: symbolic or unknown dimensions (such as a batch size N) are counted as 1.</source>
        <translation>≥ kennzeichnet eine Untergrenze: symbolische oder unbekannte Dimensionen (etwa eine Batchgröße N) zählen als 1.</translation>
    </message>
    <message>
        <source>No multiply-accumulate ops in this graph</source>
        <translation>Keine Multiplizier-Akkumulier-Operationen in diesem Graphen</translation>
    </message>
    <message>
        <source>IR version %1</source>
        <translation>IR-Version %1</translation>
    </message>
    <message>
        <source>opsets: %1</source>
        <translation>Opsets: %1</translation>
    </message>
    <message>
        <source>produced by %1</source>
        <translation>erzeugt von %1</translation>
    </message>
    <message>
        <source>%1 (+%2 nested)</source>
        <translation>%1 (+%2 verschachtelt)</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Eingabe</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <source>Nodes per op type</source>
        <translation>Knoten je Operatortyp</translation>
    </message>
    <message>
        <source>nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
    <message>
        <source>GMACs</source>
        <translation>GMACs</translation>
    </message>
    <message>
        <source>MMACs</source>
        <translation>MMACs</translation>
    </message>
    <message>
        <source>kMACs</source>
        <translation>kMACs</translation>
    </message>
    <message>
        <source>MACs per op type (%1 total)</source>
        <translation>MACs je Operatortyp (%1 gesamt)</translation>
    </message>
</context>
<context>
    <name>ew::ui::PropertiesPanel</name>
    <message>
        <source>Property</source>
        <translation>Eigenschaft</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>Elements</source>
        <translation>Elemente</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Min</source>
        <translation>Minimum</translation>
    </message>
    <message>
        <source>Max</source>
        <translation>Maximum</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Mittelwert</translation>
    </message>
    <message>
        <source>Std dev</source>
        <translation>Standardabweichung</translation>
    </message>
    <message>
        <source>Sparsity</source>
        <translation>Dünnbesetztheit</translation>
    </message>
    <message>
        <source>%1 % zeros (%2 of %3)</source>
        <translation>%1 % Nullen (%2 von %3)</translation>
    </message>
    <message>
        <source>NaN / inf</source>
        <translation>NaN / unendlich</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Typ</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>Form</translation>
    </message>
    <message>
        <source>graph input</source>
        <translation>Grapheingabe</translation>
    </message>
    <message>
        <source>output of %1 (%2)</source>
        <translation>Ausgabe von %1 (%2)</translation>
    </message>
    <message>
        <source>value of the enclosing graph</source>
        <translation>Wert des umgebenden Graphen</translation>
    </message>
    <message>
        <source>not produced by any node</source>
        <translation>von keinem Knoten erzeugt</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>Quelle</translation>
    </message>
    <message>
        <source>graph output</source>
        <translation>Graphausgabe</translation>
    </message>
    <message>
        <source>unused</source>
        <translation>unbenutzt</translation>
    </message>
    <message numerus="yes">
        <source> and %n more</source>
        <translation>
            <numerusform> und %n weiterer</numerusform>
            <numerusform> und %n weitere</numerusform>
        </translation>
    </message>
    <message>
        <source>Used by</source>
        <translation>Verwendet von</translation>
    </message>
    <message>
        <source>&lt;i&gt;Select a node in the node list to see its attributes, inputs and weights.&lt;/i&gt;</source>
        <translation>&lt;i&gt;Wählen Sie einen Knoten in der Knotenliste, um seine Attribute, Eingaben und Gewichte zu sehen.&lt;/i&gt;</translation>
    </message>
    <message>
        <source>&lt;i&gt;No model open.&lt;/i&gt;</source>
        <translation>&lt;i&gt;Kein Modell geöffnet.&lt;/i&gt;</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Op type</source>
        <translation>Operatortyp</translation>
    </message>
    <message>
        <source>Domain</source>
        <translation>Domäne</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
    <message>
        <source>FLOPs</source>
        <translation>FLOPs</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>Subgraphs</source>
        <translation>Untergraphen</translation>
    </message>
    <message numerus="yes">
        <source>%n subgraph(s)</source>
        <translation>
            <numerusform>%n Untergraph</numerusform>
            <numerusform>%n Untergraphen</numerusform>
        </translation>
    </message>
    <message>
        <source>Documentation</source>
        <translation>Dokumentation</translation>
    </message>
    <message>
        <source>Attributes (%1)</source>
        <translation>Attribute (%1)</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>(keine)</translation>
    </message>
    <message>
        <source>Inputs (%1)</source>
        <translation>Eingaben (%1)</translation>
    </message>
    <message>
        <source>%1: (omitted)</source>
        <translation>%1: (ausgelassen)</translation>
    </message>
    <message>
        <source>Outputs (%1)</source>
        <translation>Ausgaben (%1)</translation>
    </message>
    <message>
        <source>initializer (weight)</source>
        <translation>Initialisierer (Gewicht)</translation>
    </message>
</context>
<context>
    <name>ew::ui::SummaryPanel</name>
    <message>
        <source>Field</source>
        <translation>Feld</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>No model open</source>
        <translation>Kein Modell geöffnet</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>Dateigröße</translation>
    </message>
    <message>
        <source>IR version</source>
        <translation>IR-Version</translation>
    </message>
    <message>
        <source>Opsets</source>
        <translation>Opsets</translation>
    </message>
    <message>
        <source>Producer</source>
        <translation>Erzeuger</translation>
    </message>
    <message>
        <source>(not recorded)</source>
        <translation>(nicht angegeben)</translation>
    </message>
    <message>
        <source>Inputs</source>
        <translation>Eingaben</translation>
    </message>
    <message>
        <source>Outputs</source>
        <translation>Ausgaben</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Nodes incl. subgraphs</source>
        <translation>Knoten inkl. Untergraphen</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
    <message>
        <source>A lower bound: symbolic or unknown dimensions are counted as 1.</source>
        <translation>Eine Untergrenze: symbolische oder unbekannte Dimensionen zählen als 1.</translation>
    </message>
    <message>
        <source>Op types</source>
        <translation>Operatortypen</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Edgewise: inspect and optimize neural-network models.</source>
        <translation>Edgewise: neuronale Netze untersuchen und optimieren.</translation>
    </message>
    <message>
        <source>Model file to open (.onnx, .tflite).</source>
        <translation>Zu öffnende Modelldatei (.onnx, .tflite).</translation>
    </message>
    <message>
        <source>User interface language, e.g. de or en (default: EDGEWISE_LANG, then the system locale).</source>
        <translation>Sprache der Oberfläche, z. B. de oder en (Vorgabe: EDGEWISE_LANG, sonst die Systemsprache).</translation>
    </message>
</context>
</TS>
